// Applies the saved theme before first paint (a classic script in <head>; app.js is a deferred module).
// No saved choice: the CSS follows prefers-color-scheme.
(function () {
  try {
    var saved = localStorage.getItem("pmrt-theme");
    if (saved === "dark" || saved === "light") document.documentElement.dataset.theme = saved;
  } catch (e) { /* storage disabled: follow the system */ }
})();
