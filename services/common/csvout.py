"""CSV that users open in a spreadsheet: UTF-8 with a byte-order mark (so Excel reads French
text right) and neutralised cells (a cell beginning with `=`, `+`, `-`, `@`, tab or carriage
return would be run as a formula, so it gets a leading apostrophe).

Only strings are neutralised: numbers (int, Decimal) are written as they are, so a negative
amount stays a number. Output comes in chunks of text, so a long export is streamed.
"""
import csv
import io

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class CsvWriter:
    """`writer.header()` once, then `writer.rows(rows)` for each batch: each returns text.

    `text_columns` (indexes) names the columns that may hold strings; only those are
    checked, which matters on million-row exports. None checks every cell."""

    def __init__(self, columns, text_columns=None, bom=True):
        self.columns = list(columns)
        self.text_columns = (list(range(len(self.columns))) if text_columns is None
                             else list(text_columns))
        self.bom = bom
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, lineterminator="\r\n")

    def _take(self):
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text

    def header(self):
        self._writer.writerow([neutralise(c) for c in self.columns])
        return (BOM if self.bom else "") + self._take()

    def rows(self, rows):
        write = self._writer.writerow
        checked = self.text_columns
        starts = FORMULA_STARTS
        for row in rows:
            copied = False
            for i in checked:
                value = row[i]
                if value.__class__ is str and value.startswith(starts):
                    if not copied:  # rows are rarely touched: copy only those that are
                        row, copied = list(row), True
                    row[i] = "'" + value
            write(row)
        return self._take()


def csv_chunks(columns, rows, text_columns=None, batch=5000, bom=True):
    """The whole CSV (header first) as chunks of about `batch` rows: for streaming."""
    writer = CsvWriter(columns, text_columns, bom)
    yield writer.header()
    pending = []
    for row in rows:
        pending.append(row)
        if len(pending) >= batch:
            yield writer.rows(pending)
            pending = []
    if pending:
        yield writer.rows(pending)


def csv_text(columns, rows, text_columns=None, bom=True):
    """A small CSV as one string."""
    return "".join(csv_chunks(columns, rows, text_columns, bom=bom))
