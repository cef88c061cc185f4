//! Report data: a document of sections holding paragraphs, key/value lists and tables of typed
//! cells (Money, Date, Decimal, Text). Builders produce a [`Doc`]; the renderers in
//! [`crate::render`] turn it into Markdown, HTML, CSV or JSON.

use std::borrow::Cow;

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::money::Money;

/// One typed value.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Money(Money),
    Date(NaiveDate),
    /// an exact decimal that is not money (patronage, a fraction, a percentage)
    Num(Decimal),
    Int(i64),
    Bool(bool),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    /// Right-aligned in tables.
    pub fn is_numeric(&self) -> bool {
        matches!(self, Cell::Money(_) | Cell::Num(_) | Cell::Int(_))
    }
    /// The machine form: money and decimals exactly, dates ISO 8601.
    pub fn plain(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Money(m) => m.to_string(),
            Cell::Date(d) => d.to_string(),
            Cell::Num(d) => d.to_string(),
            Cell::Int(i) => i.to_string(),
            Cell::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
            Cell::Empty => String::new(),
        }
    }
    /// The form for people: money with thousands separators.
    pub fn human(&self) -> String {
        match self {
            Cell::Money(m) => m.grouped(),
            other => other.plain(),
        }
    }
}

/// How a row is meant: an ordinary line, a subtotal or a control total.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    Body,
    Subtotal,
    Total,
}

impl RowKind {
    pub fn name(self) -> &'static str {
        match self {
            RowKind::Body => "body",
            RowKind::Subtotal => "subtotal",
            RowKind::Total => "total",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Column {
    /// machine name (CSV header, JSON key)
    pub key: Cow<'static, str>,
    /// human label (Markdown/HTML header)
    pub label: Cow<'static, str>,
}

impl Column {
    /// A column whose name is known only at run time (a year, a scenario).
    pub fn new(key: impl Into<Cow<'static, str>>, label: impl Into<Cow<'static, str>>) -> Column {
        Column {
            key: key.into(),
            label: label.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub kind: RowKind,
    pub cells: Vec<Cell>,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

impl Table {
    pub fn new(columns: &[(&'static str, &'static str)]) -> Table {
        Table {
            columns: columns
                .iter()
                .map(|(key, label)| Column::new(*key, *label))
                .collect(),
            rows: Vec::new(),
        }
    }
    /// A table of columns named at run time.
    pub fn with_columns(columns: Vec<Column>) -> Table {
        Table {
            columns,
            rows: Vec::new(),
        }
    }
    pub fn push(&mut self, kind: RowKind, cells: Vec<Cell>) {
        self.rows.push(Row { kind, cells });
    }
    /// A body row of the cells `row` makes of each item, in order.
    pub fn body<T>(&mut self, items: impl IntoIterator<Item = T>, row: impl FnMut(T) -> Vec<Cell>) {
        self.rows
            .extend(items.into_iter().map(row).map(|cells| Row {
                kind: RowKind::Body,
                cells,
            }));
    }
    /// Per column: does any row hold a number there (right-aligned by every renderer)?
    pub fn numeric_columns(&self) -> Vec<bool> {
        (0..self.columns.len())
            .map(|i| {
                self.rows
                    .iter()
                    .any(|r| r.cells.get(i).is_some_and(Cell::is_numeric))
            })
            .collect()
    }
}

#[derive(Debug, Clone)]
pub enum Block {
    Para(String),
    /// a remark on the figures (a caveat, an assumption, a warning)
    Note(String),
    /// label/value pairs, in order
    Fields(Vec<(String, Cell)>),
    Table(Table),
    /// a chart (HTML draws it as inline SVG; the other formats leave it out, its figures are in
    /// the tables)
    Chart(Chart),
}

/// How a chart draws its series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartKind {
    /// one bar per category and series, side by side
    Bars,
    /// one bar per category, the series stacked on it
    StackedBars,
    /// one line per series across the categories
    Lines,
}

/// One named series of a chart: a value for each category (`None` where it has none).
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<Decimal>>,
    /// a fixed colour (`#rrggbb`), else the next of the palette
    pub colour: Option<&'static str>,
    /// drawn dashed (a reference such as the line of equality)
    pub dashed: bool,
}

impl Series {
    pub fn new(name: impl Into<String>, values: Vec<Option<Decimal>>) -> Series {
        Series {
            name: name.into(),
            values,
            colour: None,
            dashed: false,
        }
    }
}

/// A chart: categories along the x axis (usually years), series of exact values. The one SVG
/// writer in `render::chart` draws every chart with its axis labels, legend and category labels.
#[derive(Debug, Clone)]
pub struct Chart {
    /// what the chart shows (its caption and accessible name)
    pub title: String,
    pub kind: ChartKind,
    pub x_label: String,
    pub y_label: String,
    /// category labels, in order (e.g. years)
    pub categories: Vec<String>,
    pub series: Vec<Series>,
    /// a fixed top of the y axis (100 for percentages); else the largest value
    pub y_max: Option<Decimal>,
    /// appended to the y tick labels (`%`)
    pub y_suffix: &'static str,
    /// a dashed horizontal line with its label (e.g. 50% for a majority)
    pub reference: Option<(Decimal, String)>,
}

impl Chart {
    pub fn new(title: impl Into<String>, kind: ChartKind) -> Chart {
        Chart {
            title: title.into(),
            kind,
            x_label: String::new(),
            y_label: String::new(),
            categories: Vec::new(),
            series: Vec::new(),
            y_max: None,
            y_suffix: "",
            reference: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Section {
    /// machine name (JSON key)
    pub id: String,
    pub title: String,
    pub blocks: Vec<Block>,
    /// HTML starts a new printed page after this section (notices: one per page)
    pub page_break: bool,
}

impl Section {
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Section {
        Section {
            id: id.into(),
            title: title.into(),
            blocks: Vec::new(),
            page_break: false,
        }
    }
    /// A section holding `blocks`.
    pub fn with(id: impl Into<String>, title: impl Into<String>, blocks: Vec<Block>) -> Section {
        Section {
            blocks,
            ..Section::new(id, title)
        }
    }
}

/// One report.
#[derive(Debug, Clone)]
pub struct Doc {
    /// report kind (`schedule`, `notices`, ...)
    pub kind: &'static str,
    pub title: String,
    /// header lines: the co-op, the fiscal year, where the figures come from
    pub header: Vec<(String, Cell)>,
    pub sections: Vec<Section>,
    /// the table CSV carries: (section index, block index)
    pub primary: Option<(usize, usize)>,
}

impl Doc {
    /// An empty report of `kind` titled `title`.
    pub fn new(kind: &'static str, title: impl Into<String>) -> Doc {
        Doc {
            kind,
            title: title.into(),
            header: Vec::new(),
            sections: Vec::new(),
            primary: None,
        }
    }
    /// The table CSV renders.
    pub fn primary_table(&self) -> Option<&Table> {
        let (s, b) = self.primary?;
        match self.sections.get(s)?.blocks.get(b)? {
            Block::Table(t) => Some(t),
            _ => None,
        }
    }
    /// Adds a section and marks `block` of it as the primary table.
    pub fn push_primary(&mut self, section: Section, block: usize) {
        self.primary = Some((self.sections.len(), block));
        self.sections.push(section);
    }
}
