//! Result rows and their two file formats: CSV (a header line, then one line per
//! point) and JSON Lines (one object per point). Both are appended row by row and
//! read back as text cells, which is how resume, merge and plots compare them.

use std::fmt::Write as _;
use std::path::Path;

/// One value of a row.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// A count.
    Int(u64),
    /// A measurement.
    Num(f64),
    /// A name or a list.
    Text(String),
    /// Nothing measured (no membarrier call, no serialization of that reason).
    Empty,
}

impl Cell {
    /// The cell as CSV writes it: integers plainly, other numbers with at most 4
    /// decimals, nothing for [`Cell::Empty`].
    pub fn text(&self) -> String {
        match self {
            Cell::Int(v) => v.to_string(),
            Cell::Num(v) if v.fract() == 0.0 && v.abs() < 1e15 => format!("{v:.0}"),
            Cell::Num(v) => {
                let fixed = format!("{v:.4}");
                fixed
                    .trim_end_matches('0')
                    .trim_end_matches('.')
                    .to_string()
            }
            Cell::Text(s) => s.clone(),
            Cell::Empty => String::new(),
        }
    }

    fn json(&self) -> serde_json::Value {
        match self {
            Cell::Int(_) | Cell::Num(_) => {
                serde_json::from_str(&self.text()).unwrap_or(serde_json::Value::Null)
            }
            Cell::Text(s) => serde_json::Value::String(s.clone()),
            Cell::Empty => serde_json::Value::Null,
        }
    }
}

/// How results are written.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// The format of `path` by its extension: `.jsonl` (or `.json`) is JSON
    /// Lines, anything else CSV.
    pub fn of(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("jsonl" | "json") => Format::Jsonl,
            _ => Format::Csv,
        }
    }

    /// The header line (CSV only: JSON Lines names every value).
    pub fn header(self, columns: &[String]) -> Option<String> {
        match self {
            Format::Csv => Some(csv_line(columns.iter().map(String::as_str))),
            Format::Jsonl => None,
        }
    }

    /// One row as a line (without the newline).
    pub fn line(self, columns: &[String], cells: &[Cell]) -> String {
        match self {
            Format::Csv => {
                let texts: Vec<String> = cells.iter().map(Cell::text).collect();
                csv_line(texts.iter().map(String::as_str))
            }
            Format::Jsonl => {
                // Written by hand to keep the columns in order.
                let fields: Vec<String> = columns
                    .iter()
                    .zip(cells)
                    .map(|(c, v)| format!("{}:{}", serde_json::Value::from(c.as_str()), v.json()))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }
        }
    }
}

fn csv_line<'a>(fields: impl Iterator<Item = &'a str>) -> String {
    let mut line = String::new();
    for (i, field) in fields.enumerate() {
        if i > 0 {
            line.push(',');
        }
        if field.contains([',', '"', '\n', '\r']) {
            let _ = write!(line, "\"{}\"", field.replace('"', "\"\""));
        } else {
            line.push_str(field);
        }
    }
    line
}

/// A results file read back: its columns and each complete row as text cells.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// Column names.
    pub columns: Vec<String>,
    /// Rows, each with one cell per column.
    pub rows: Vec<Vec<String>>,
    /// Each row's line as written (without its newline).
    pub lines: Vec<String>,
    /// Bytes of the file up to the end of its last complete row (a run killed
    /// while writing leaves a partial line after it).
    pub complete_len: usize,
}

impl Table {
    /// Parse `text` in `format` (the columns are the CSV header, or the keys of
    /// the first JSON object). A last line without its newline is a row cut
    /// short and left out.
    pub fn parse(text: &str, format: Format) -> Result<Table, String> {
        let mut table = Table::default();
        let mut offset = 0;
        let mut lines = Vec::new();
        for line in text.split_inclusive('\n') {
            if !line.ends_with('\n') {
                break;
            }
            offset += line.len();
            lines.push((line.trim_end_matches(['\n', '\r']), offset));
        }
        let mut rows = lines.into_iter().enumerate();
        match format {
            Format::Csv => match rows.next() {
                Some((_, (header, end))) => {
                    table.columns = split_csv(header);
                    table.complete_len = end;
                }
                None => return Ok(table),
            },
            Format::Jsonl => {}
        }
        for (number, (line, end)) in rows {
            let cells = match format {
                Format::Csv => split_csv(line),
                Format::Jsonl => {
                    let not_a_row = || format!("line {}: not a sweep row", number + 1);
                    let fields = json_fields(line).ok_or_else(not_a_row)?;
                    if table.columns.is_empty() {
                        table.columns = fields.iter().map(|(k, _)| k.clone()).collect();
                    }
                    if !fields.iter().map(|(k, _)| k).eq(table.columns.iter()) {
                        return Err(format!("line {}: other columns than line 1", number + 1));
                    }
                    fields.into_iter().map(|(_, v)| v).collect()
                }
            };
            if cells.len() != table.columns.len() {
                return Err(format!(
                    "line {}: {} values for {} columns",
                    number + 1,
                    cells.len(),
                    table.columns.len()
                ));
            }
            table.rows.push(cells);
            table.lines.push(line.to_string());
            table.complete_len = end;
        }
        Ok(table)
    }

    /// Read the results file at `path`, in the format its extension says.
    pub fn read(path: &Path) -> Result<Table, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Table::parse(&text, Format::of(path)).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// The index of column `name`.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == name)
    }
}

/// The fields of one JSON Lines row in file order, each as CSV would write it.
fn json_fields(line: &str) -> Option<Vec<(String, String)>> {
    struct Ordered(Vec<(String, String)>);
    impl<'de> serde::Deserialize<'de> for Ordered {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Ordered, D::Error> {
            struct Fields;
            impl<'de> serde::de::Visitor<'de> for Fields {
                type Value = Ordered;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Ordered, A::Error> {
                    let mut fields = Vec::new();
                    while let Some((key, value)) = map.next_entry::<String, serde_json::Value>()? {
                        let text = match value {
                            serde_json::Value::Null => String::new(),
                            serde_json::Value::String(s) => s,
                            other => other.to_string(),
                        };
                        fields.push((key, text));
                    }
                    Ok(Ordered(fields))
                }
            }
            d.deserialize_map(Fields)
        }
    }
    serde_json::from_str::<Ordered>(line).ok().map(|o| o.0)
}

/// The fields of one CSV line (RFC 4180 quoting).
fn split_csv(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_read_back_as_written_in_both_formats() {
        let columns: Vec<String> = ["a", "b", "c", "d"].map(String::from).to_vec();
        let cells = [
            Cell::Int(3),
            Cell::Num(2.0 / 3.0),
            Cell::Text("x, \"y\"".into()),
            Cell::Empty,
        ];
        for format in [Format::Csv, Format::Jsonl] {
            let mut text = format.header(&columns).map_or(String::new(), |h| h + "\n");
            text += &format.line(&columns, &cells);
            text += "\n";
            let complete = text.len();
            text += "partial,li";
            let table = Table::parse(&text, format).unwrap();
            assert_eq!(table.columns, columns);
            assert_eq!(table.rows, [["3", "0.6667", "x, \"y\"", ""]]);
            assert_eq!(table.complete_len, complete, "{format:?}");
        }
    }

    #[test]
    fn numbers_are_written_briefly_and_deterministically() {
        assert_eq!(Cell::Num(1500.0).text(), "1500");
        assert_eq!(Cell::Num(0.1).text(), "0.1");
        assert_eq!(Cell::Num(12.34567).text(), "12.3457");
    }
}
