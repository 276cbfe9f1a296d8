"""Spreadsheet imports (issue 7 item 5): responsibility items into a draft duty-list version,
findings into an inspection. `sheets` reads a hostile upload safely, `columns` maps headers and
cells, `runner` drives the rows through each kind's single-create service, `items` and
`findings` are the two kinds, `templates` writes their templates."""
