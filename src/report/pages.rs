//! The printed pages (HTML, Bahasa Indonesia) from editable templates: the monthly
//! report, the agenda book, and the complaint and disposition sheets.
//!
//! Each template lives in `office.templates_dir` as `<name>.html`; when the office has
//! not put a file there, the copy built into the binary is used. Values are escaped as
//! HTML; only the charts (drawn by the program) are inserted as they are. Two filters
//! write times for people: `tanggal` (`3 Desember 2026 10.52`, office zone) and `hari`
//! (`3 Desember 2026`).

use std::path::Path;

use chrono::{Datelike, Timelike};
use chrono_tz::Tz;
use minijinja::Environment;
use serde::Serialize;

use crate::clock::parse_rfc3339;
use crate::mail::templates::{BULAN, TemplateError, add_office_copies};

/// Built-in copies of the page templates in `templates/`.
const BUILT_IN: &[(&str, &str)] = &[
    (
        "laporan_bulanan.html",
        include_str!("../../templates/laporan_bulanan.html"),
    ),
    (
        "laporan_bulanan_surel.html",
        include_str!("../../templates/laporan_bulanan_surel.html"),
    ),
    (
        "buku_agenda.html",
        include_str!("../../templates/buku_agenda.html"),
    ),
    (
        "lembar_pengaduan.html",
        include_str!("../../templates/lembar_pengaduan.html"),
    ),
];

pub struct Pages {
    env: Environment<'static>,
}

impl Pages {
    /// Loads every page template: the office's file when present, the built-in copy
    /// otherwise. Times are written in `zone`.
    pub fn load(dir: &Path, zone: Tz) -> Result<Pages, TemplateError> {
        let mut env = Environment::new();
        add_office_copies(&mut env, dir, BUILT_IN, "")?;
        env.add_filter("tanggal", move |at: String| written(&at, zone, true));
        env.add_filter("hari", move |at: String| written(&at, zone, false));
        Ok(Pages { env })
    }

    pub fn render(&self, name: &str, context: impl Serialize) -> Result<String, TemplateError> {
        self.env
            .get_template(name)
            .and_then(|t| t.render(context))
            .map_err(|source| TemplateError::Render {
                name: name.to_string(),
                source,
            })
    }

    /// The names of all page templates, for `check` and the documentation.
    pub fn names() -> impl Iterator<Item = &'static str> {
        BUILT_IN.iter().map(|(name, _)| *name)
    }
}

/// An RFC 3339 time written for people in `zone`; anything else is left as it is.
fn written(at: &str, zone: Tz, with_time: bool) -> String {
    let Some(at) = parse_rfc3339(at) else {
        return at.to_owned();
    };
    let local = at.with_timezone(&zone);
    let day = format!(
        "{} {} {}",
        local.day(),
        BULAN[local.month0() as usize],
        local.year()
    );
    if with_time {
        format!("{day} {:02}.{:02}", local.hour(), local.minute())
    } else {
        day
    }
}

/// A chart or other markup the program made, inserted into a page as it is.
pub fn markup(html: String) -> minijinja::Value {
    minijinja::Value::from_safe_string(html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_values_and_write_dates_in_the_office_zone() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("buku_agenda.html"),
            "{{ subject }}|{{ at|tanggal }}|{{ at|hari }}|{{ chart }}",
        )
        .expect("write");
        let pages = Pages::load(dir.path(), chrono_tz::Asia::Makassar).expect("load");
        let page = pages
            .render(
                "buku_agenda.html",
                minijinja::context! {
                    subject => "<b>Jalan</b>",
                    at => "2026-12-03T02:52:00Z",
                    chart => markup("<svg></svg>".into()),
                },
            )
            .expect("render");
        assert_eq!(
            page,
            "&lt;b&gt;Jalan&lt;&#x2f;b&gt;|3 Desember 2026 10.52|3 Desember 2026|<svg></svg>"
        );
    }
}
