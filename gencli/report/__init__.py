"""The one-page report: the whole course exercise as HTML, Markdown and JSON."""
