"""Monthly digitization report: the ``reports`` config section, the writers (XLSX, CSV, HTML) and SVG charts."""
