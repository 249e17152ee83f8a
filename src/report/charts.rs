//! The report's charts, drawn by plotters: SVG for the HTML report (inline, no script
//! and no external asset), PNG for the email (mail clients do not show SVG). Each chart
//! is drawn once, generically over the backend. Labels are set in DejaVu Sans (Latin
//! subset, `assets/`), built into the binary so that PNGs need no system font.

use image::ImageEncoder;
use plotters::coord::Shift;
use plotters::prelude::*;

/// Width and height of every chart, in pixels.
pub const SIZE: (u32, u32) = (640, 300);

const BAR: RGBColor = RGBColor(0x1f, 0x5f, 0x99);
const FONT: &str = "sans-serif";

static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/DejaVuSans-Latin.ttf");

/// Registers the built-in font once; an error (a damaged font) is reported each time.
fn fonts() -> Result<(), String> {
    static REGISTERED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, DEJAVU_SANS).is_ok()
    });
    ok.then_some(())
        .ok_or_else(|| "cannot draw a chart: the built-in font is unreadable".to_string())
}

/// A bar per labelled count.
pub struct Bars<'a> {
    pub title: &'a str,
    pub bars: &'a [(String, u64)],
}

/// A count per day of a month.
pub struct Daily<'a> {
    pub title: &'a str,
    pub counts: &'a [u64],
}

/// A chart drawn into any plotters backend.
pub trait Chart {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String>;

    /// The chart as one `<svg>` element.
    fn svg(&self) -> Result<String, String> {
        fonts()?;
        let mut out = String::new();
        {
            let area = SVGBackend::with_string(&mut out, SIZE).into_drawing_area();
            self.draw(&area)?;
            area.present()
                .map_err(|e| format!("cannot draw a chart: {e}"))?;
        }
        Ok(out)
    }

    /// The chart as a PNG image.
    fn png(&self) -> Result<Vec<u8>, String> {
        fonts()?;
        let (width, height) = SIZE;
        let mut pixels = vec![0u8; width as usize * height as usize * 3];
        {
            let area = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
            self.draw(&area)?;
            area.present().map_err(failed)?;
        }
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new(&mut png)
            .write_image(&pixels, width, height, image::ColorType::Rgb8)
            .map_err(failed)?;
        Ok(png)
    }
}

/// One of the monthly report's charts.
pub enum ReportChart<'a> {
    Daily(Daily<'a>),
    Bars(Bars<'a>),
}

impl Chart for ReportChart<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        match self {
            ReportChart::Daily(chart) => chart.draw(area),
            ReportChart::Bars(chart) => chart.draw(area),
        }
    }
}

/// Calls `each` with the key (for ids and file names), the title and the chart of each
/// of the report's four charts, in order: received per day, per channel, per status,
/// per unit.
pub fn each_report_chart<T>(
    report: &super::monthly::MonthlyReport,
    mut each: impl FnMut(&'static str, &'static str, &ReportChart<'_>) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    let pairs = |map: &std::collections::BTreeMap<String, u64>| -> Vec<(String, u64)> {
        map.iter().map(|(k, v)| (k.replace('_', " "), *v)).collect()
    };
    let (channel, status, unit) = (
        pairs(&report.by_channel),
        pairs(&report.by_status),
        pairs(&report.by_unit),
    );
    let charts = [
        ("harian", "Pengaduan diterima per hari", None),
        ("kanal", "Pengaduan per kanal", Some(&channel)),
        ("status", "Pengaduan per status", Some(&status)),
        ("unit", "Pengaduan per unit kerja", Some(&unit)),
    ];
    charts
        .into_iter()
        .map(|(key, title, bars)| {
            let chart = match bars {
                None => ReportChart::Daily(Daily {
                    title,
                    counts: &report.received_by_day,
                }),
                Some(bars) => ReportChart::Bars(Bars { title, bars }),
            };
            each(key, title, &chart)
        })
        .collect()
}

fn failed<E: std::fmt::Display>(e: E) -> String {
    format!("cannot draw a chart: {e}")
}

/// The top of a count axis with room above the highest bar.
fn ceiling(max: u64) -> u64 {
    (max + max / 10).max(max + 1)
}

impl Chart for Bars<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        area.fill(&WHITE).map_err(failed)?;
        // Segments 0..=last: one per bar.
        let last = self.bars.len().saturating_sub(1) as u32;
        let top = ceiling(self.bars.iter().map(|(_, v)| *v).max().unwrap_or(0));
        let mut chart = ChartBuilder::on(area)
            .caption(self.title, (FONT, 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(45)
            .build_cartesian_2d((0..last).into_segmented(), 0..top)
            .map_err(failed)?;
        let label = |value: &SegmentValue<u32>| match value {
            SegmentValue::CenterOf(i) => self
                .bars
                .get(*i as usize)
                .map(|(name, _)| name.clone())
                .unwrap_or_default(),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(self.bars.len().max(1))
            .x_label_formatter(&label)
            .y_desc("jumlah")
            .label_style((FONT, 12))
            .draw()
            .map_err(failed)?;
        chart
            .draw_series(
                Histogram::vertical(&chart)
                    .style(BAR.filled())
                    .margin(12)
                    .data(
                        self.bars
                            .iter()
                            .enumerate()
                            .map(|(i, (_, v))| (i as u32, *v)),
                    ),
            )
            .map_err(failed)?;
        Ok(())
    }
}

impl Chart for Daily<'_> {
    fn draw<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
        area.fill(&WHITE).map_err(failed)?;
        let days = self.counts.len().max(1) as u32;
        let top = ceiling(self.counts.iter().copied().max().unwrap_or(0));
        let mut chart = ChartBuilder::on(area)
            .caption(self.title, (FONT, 18))
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(45)
            .build_cartesian_2d(1..days, 0..top)
            .map_err(failed)?;
        chart
            .configure_mesh()
            .x_desc("tanggal")
            .y_desc("jumlah")
            .label_style((FONT, 12))
            .draw()
            .map_err(failed)?;
        let points = self
            .counts
            .iter()
            .enumerate()
            .map(|(i, v)| (i as u32 + 1, *v));
        chart
            .draw_series(LineSeries::new(points, BAR.stroke_width(2)))
            .map_err(failed)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_are_svg_with_their_titles_and_labels() {
        let bars = [("email".to_string(), 3), ("sms".to_string(), 1)];
        let svg = Bars {
            title: "Pengaduan per kanal",
            bars: &bars,
        }
        .svg()
        .expect("svg");
        assert!(svg.starts_with("<svg"), "{}", &svg[..60.min(svg.len())]);
        assert!(svg.contains("Pengaduan per kanal"));
        assert!(
            svg.contains("\nemail\n") && svg.contains("\nsms\n"),
            "{svg}"
        );
        assert!(
            svg.matches("<rect").count() >= 3,
            "a bar each besides the background"
        );
        let daily = Daily {
            title: "Per hari",
            counts: &[0, 2, 1],
        }
        .svg()
        .expect("svg");
        assert!(
            daily.contains(r##"<polyline fill="none" opacity="1" stroke="#1F5F99""##),
            "the line, in the bars' colour: {daily}"
        );
        let png = Bars {
            title: "Pengaduan per kanal",
            bars: &bars,
        }
        .png()
        .expect("png");
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
        // Nothing at all is still a chart, not an error.
        let empty = Bars {
            title: "Kosong",
            bars: &[],
        };
        assert!(empty.svg().expect("empty").contains("Kosong"));
    }
}
