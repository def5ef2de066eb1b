// Plotly sizes a chart drawn inside a closed details element to a default width: redraw
// the appendix's charts at the page width when it opens.
document.querySelectorAll('details.appendix').forEach(function (details) {
  details.addEventListener('toggle', function () {
    if (details.open) {
      details.querySelectorAll('.js-plotly-plot').forEach(function (g) { Plotly.Plots.resize(g); });
    }
  });
});
