// MathJax reads this before it starts. pymdownx.arithmatex (generic mode) wraps every formula
// in an element of class "arithmatex" with \( \) or \[ \] delimiters; only those are typeset.
// The MathJax files themselves ship with the site (vendor/mathjax), so no CDN is contacted.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
  },
};
