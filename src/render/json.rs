//! JSON: the whole report, block by block. Money and decimals are strings, never floats.

use std::io::{self, Write};

use serde_json::{json, Map, Value};

use crate::report::doc::{Block, Cell, Doc};

fn value(c: &Cell) -> Value {
    match c {
        Cell::Text(s) => Value::String(s.clone()),
        Cell::Money(m) => Value::String(m.to_string()),
        Cell::Date(d) => Value::String(d.to_string()),
        Cell::Num(d) => Value::String(d.to_string()),
        Cell::Int(i) => Value::from(*i),
        Cell::Bool(b) => Value::Bool(*b),
        Cell::Empty => Value::Null,
    }
}

fn fields(fs: &[(String, Cell)]) -> Value {
    let mut m = Map::new();
    for (k, v) in fs {
        m.insert(k.clone(), value(v));
    }
    Value::Object(m)
}

pub fn to_value(doc: &Doc) -> Value {
    let sections: Vec<Value> = doc
        .sections
        .iter()
        .map(|s| {
            let blocks: Vec<Value> = s
                .blocks
                .iter()
                .filter_map(|b| {
                    Some(match b {
                        Block::Para(p) => json!({"type": "text", "text": p}),
                        Block::Note(p) => json!({"type": "note", "text": p}),
                        Block::Fields(fs) => json!({"type": "fields", "fields": fields(fs)}),
                        // a chart's figures are in the tables
                        Block::Chart(_) => return None,
                        Block::Table(t) => {
                            let rows: Vec<Value> = t
                                .rows
                                .iter()
                                .map(|r| {
                                    let mut m = Map::new();
                                    m.insert("row".into(), Value::String(r.kind.name().into()));
                                    for (c, v) in t.columns.iter().zip(&r.cells) {
                                        m.insert(c.key.to_string(), value(v));
                                    }
                                    Value::Object(m)
                                })
                                .collect();
                            json!({
                                "type": "table",
                                "columns": t.columns.iter().map(|c| c.key.as_ref()).collect::<Vec<_>>(),
                                "rows": rows,
                            })
                        }
                    })
                })
                .collect();
            json!({"id": s.id, "title": s.title, "blocks": blocks})
        })
        .collect();
    json!({
        "report": doc.kind,
        "title": doc.title,
        "header": fields(&doc.header),
        "sections": sections,
    })
}

pub fn render(doc: &Doc, out: &mut dyn Write) -> io::Result<()> {
    // serde_json hands an io::Error back unchanged, so a closed pipe stays recognisable
    serde_json::to_writer_pretty(&mut *out, &to_value(doc))?;
    writeln!(out)
}
