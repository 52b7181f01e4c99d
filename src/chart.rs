//! The PNG chart attached to the supervisors' `/stats` answer and written by
//! `signpost stats --chart FILE`: flagged and actioned posts per day, stacked
//! by category.
//!
//! This module owns everything about the picture and nothing about the
//! numbers: the layout (two adjacent bars per day, flagged solid and actioned
//! hatched on a lighter tint), the fixed colour of each [`Category`], the
//! legend, the axes and their labels, the embedded font and the PNG encoding.
//! The caller supplies the counts ([`DayCounts`]); [`render_png`] is pure: no
//! I/O, no clock, no system fonts.
//!
//! Text is drawn with DejaVu Sans, compiled into the binary from
//! `assets/fonts/DejaVuSans.ttf` (licence in `assets/fonts/LICENSE-DejaVu.txt`)
//! and registered with plotters' `ab_glyph` font support the first time a chart
//! is drawn. plotters is built without its `ttf` feature, so it never looks
//! for fonts on the machine: a chart looks the same on every host.

use crate::category::Category;
use chrono::NaiveDate;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::sync::OnceLock;

/// Pixel size of every chart.
pub const WIDTH: u32 = 1200;
pub const HEIGHT: u32 = 600;

/// The longest period one chart shows, in days from the first to the last
/// day given (inclusive): about 2.7 years, where a day is about a pixel wide.
pub const MAX_DAYS: usize = 1000;

/// One day's counts. Categories with 0 may be absent. A post with several
/// categories counts once per category.
///
/// [`render_png`] places days on a continuous calendar axis from the earliest
/// to the latest day given, in date order: a missing day shows as an empty
/// day, and counts given twice (the same day twice, or a category twice in
/// one list) are added up.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DayCounts {
    pub day: NaiveDate,
    pub flagged: Vec<(Category, u64)>,
    pub actioned: Vec<(Category, u64)>,
}

/// Why a chart could not be produced. Apart from [`ChartError::TooManyDays`],
/// none of these depend on the input: they mean the embedded font or the
/// drawing library misbehaved.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The days given span more than [`MAX_DAYS`].
    #[error("a chart shows at most {max} days; these span {days}", max = MAX_DAYS)]
    TooManyDays { days: u64 },
    /// The embedded font could not be parsed.
    #[error("the embedded chart font could not be loaded")]
    Font,
    /// plotters failed while drawing.
    #[error("drawing the chart failed: {0}")]
    Draw(String),
    /// The drawn image could not be encoded as PNG.
    #[error("encoding the chart as PNG failed: {0}")]
    Encode(#[from] png::EncodingError),
}

/// Renders the chart as PNG bytes, WIDTH × HEIGHT, RGB.
///
/// `title` is drawn at the top, shortened with "…" if it does not fit. With no
/// days, or only zero counts, the axes are still drawn with the note "No
/// flagged posts in this period". Fails with [`ChartError::TooManyDays`] if
/// the days span more than [`MAX_DAYS`].
pub fn render_png(title: &str, days: &[DayCounts]) -> Result<Vec<u8>, ChartError> {
    ensure_font()?;
    let grid = Grid::from_days(days)?;
    let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
    draw(&mut rgb, title, &grid)?;
    encode(&rgb)
}

/// The family name every piece of text asks for; the embedded font is
/// registered under it.
const FONT: &str = "sans-serif";
static FONT_BYTES: &[u8] = include_bytes!("../assets/fonts/DejaVuSans.ttf");

/// Registers the embedded font with plotters, once per process.
fn ensure_font() -> Result<(), ChartError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(ChartError::Font)
    }
}

/// How many categories exist; per-day counts are arrays indexed by
/// `category as usize`, which is the category's position in [`Category::ALL`].
const CATEGORIES: usize = Category::ALL.len();

/// The counts laid out for drawing: one slot per calendar day from `start`.
#[derive(Debug, PartialEq, Eq)]
struct Grid {
    start: Option<NaiveDate>,
    slots: Vec<Slot>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Slot {
    flagged: [u64; CATEGORIES],
    actioned: [u64; CATEGORIES],
}

impl Grid {
    fn from_days(days: &[DayCounts]) -> Result<Grid, ChartError> {
        let (Some(first), Some(last)) = (
            days.iter().map(|d| d.day).min(),
            days.iter().map(|d| d.day).max(),
        ) else {
            return Ok(Grid {
                start: None,
                slots: Vec::new(),
            });
        };
        let span = (last - first).num_days().unsigned_abs() + 1;
        if span > MAX_DAYS as u64 {
            return Err(ChartError::TooManyDays { days: span });
        }
        let len = span as usize;
        let mut slots = vec![Slot::default(); len];
        for d in days {
            let slot = &mut slots[(d.day - first).num_days() as usize];
            add(&mut slot.flagged, &d.flagged);
            add(&mut slot.actioned, &d.actioned);
        }
        Ok(Grid {
            start: Some(first),
            slots,
        })
    }

    /// The tallest bar, flagged or actioned.
    fn max_bar(&self) -> u64 {
        self.slots
            .iter()
            .flat_map(|s| [total(&s.flagged), total(&s.actioned)])
            .max()
            .unwrap_or(0)
    }

    /// Categories that occur anywhere in the data, in [`Category::ALL`] order.
    fn categories(&self) -> Vec<Category> {
        Category::ALL
            .iter()
            .copied()
            .filter(|&c| {
                self.slots
                    .iter()
                    .any(|s| s.flagged[c as usize] > 0 || s.actioned[c as usize] > 0)
            })
            .collect()
    }

    fn day(&self, index: usize) -> Option<NaiveDate> {
        self.start?
            .checked_add_days(chrono::Days::new(index as u64))
    }
}

fn add(into: &mut [u64; CATEGORIES], counts: &[(Category, u64)]) {
    for &(c, n) in counts {
        into[c as usize] = into[c as usize].saturating_add(n);
    }
}

fn total(counts: &[u64; CATEGORIES]) -> u64 {
    counts.iter().fold(0u64, |a, &n| a.saturating_add(n))
}

/// The fixed colour of each category: Paul Tol's "muted" palette, the
/// Okabe–Ito orange, yellow, blue and vermillion, and Tol's dark red and
/// pink, chosen to stay distinguishable with the common colour-vision
/// deficiencies. None is a neutral grey, so no category looks like text or
/// the axes.
fn colour(c: Category) -> RGBColor {
    match c {
        Category::Abuse => RGBColor(0xCC, 0x66, 0x77),
        Category::Threat => RGBColor(0x88, 0x22, 0x55),
        Category::Hate => RGBColor(0xAA, 0x44, 0x99),
        Category::Profanity => RGBColor(0xDD, 0xCC, 0x77),
        Category::Sexual => RGBColor(0xE6, 0x9F, 0x00),
        Category::Spam => RGBColor(0x99, 0x99, 0x33),
        Category::Advertising => RGBColor(0xF0, 0xE4, 0x42),
        Category::PersonalInfo => RGBColor(0x00, 0x72, 0xB2),
        Category::StaffNamed => RGBColor(0x88, 0xCC, 0xEE),
        Category::Complaint => RGBColor(0x44, 0xAA, 0x99),
        Category::ClinicalQuestion => RGBColor(0x11, 0x77, 0x33),
        Category::Crisis => RGBColor(0xD5, 0x5E, 0x00),
        Category::Illegal => RGBColor(0x33, 0x22, 0x88),
        Category::Extremism => RGBColor(0x66, 0x33, 0x33),
        Category::Disinformation => RGBColor(0xFF, 0xAA, 0xBB),
    }
}

/// The background of an actioned bar: the category colour mixed with white.
fn tint(c: RGBColor) -> RGBColor {
    let mix = |v: u8| v + ((255 - v) as u32 * 11 / 20) as u8;
    RGBColor(mix(c.0), mix(c.1), mix(c.2))
}

// Layout, in pixels.
const LEGEND_WIDTH: u32 = 200;
const MARGIN: u32 = 16;
const Y_LABEL_AREA: u32 = 70;
const X_LABEL_AREA: u32 = 40;
/// Width of the plotting area: the chart part of the image less its margins
/// and the y label area.
const PLOT_WIDTH: u32 = WIDTH - LEGEND_WIDTH - 2 * MARGIN - Y_LABEL_AREA;
/// Spacing of the hatching on actioned bars, along each axis.
const HATCH: i32 = 6;
/// Widest bar, in pixels, so a few days do not make slabs.
const MAX_BAR: u32 = 48;
/// x axis units per day: day `i` spans `DAY * i .. DAY * (i + 1)`.
const DAY: i64 = 100;

const AXIS_GREY: RGBColor = RGBColor(0x44, 0x44, 0x44);
const GRID_GREY: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);
const NOTE_GREY: RGBColor = RGBColor(0x66, 0x66, 0x66);
/// Colour of the "flagged"/"actioned" key swatches in the legend.
const KEY_GREY: RGBColor = RGBColor(0x77, 0x77, 0x77);

fn draw_err<E: std::fmt::Display>(e: E) -> ChartError {
    ChartError::Draw(e.to_string())
}

fn draw(rgb: &mut [u8], title: &str, grid: &Grid) -> Result<(), ChartError> {
    let root = BitMapBackend::with_buffer(rgb, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(draw_err)?;
    let (main, legend) = root.split_horizontally(WIDTH - LEGEND_WIDTH);

    let days = grid.slots.len();
    let max = grid.max_bar();
    let (top, step) = y_scale(max);
    let x_ticks = x_ticks(days);
    let label_format = if day_pixels(days) >= 80.0 {
        "%a %-d %b"
    } else {
        "%-d %b"
    };
    let x_label = |x: &i64| {
        grid.day((x.max(&0) / DAY) as usize)
            .map(|d| d.format(label_format).to_string())
            .unwrap_or_default()
    };
    let y_label = |y: &u64| thousands(*y);

    let title = fit(
        title,
        (FONT, 22).into_font(),
        WIDTH - LEGEND_WIDTH - 2 * MARGIN,
    );
    let mut builder = ChartBuilder::on(&main);
    if !title.trim().is_empty() {
        builder.caption(title, (FONT, 22).into_font().color(&BLACK));
    }
    let mut chart = builder
        .margin(MARGIN)
        .x_label_area_size(X_LABEL_AREA)
        .y_label_area_size(Y_LABEL_AREA)
        .build_cartesian_2d(
            (0..DAY * days.max(1) as i64).with_key_points(x_ticks),
            (0u64..top).with_key_points(y_ticks(top, step)),
        )
        .map_err(draw_err)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .bold_line_style(GRID_GREY)
        .axis_style(AXIS_GREY)
        .label_style((FONT, 13).into_font().color(&AXIS_GREY))
        .axis_desc_style((FONT, 14).into_font().color(&AXIS_GREY))
        .y_desc("posts")
        .x_label_formatter(&x_label)
        .y_label_formatter(&y_label)
        .draw()
        .map_err(draw_err)?;

    // Bars are drawn in pixels on the root area so the actioned ones can be
    // hatched; `backend_coord` gives root pixels.
    let px = |x: i64, y: u64| chart.backend_coord(&(x, y));
    let bar = bar_units(days);
    for (i, slot) in grid.slots.iter().enumerate() {
        let middle = DAY * i as i64 + DAY / 2;
        let bars = [
            (middle - bar, middle, &slot.flagged, false),
            (middle, middle + bar, &slot.actioned, true),
        ];
        for (left, right, counts, hatched) in bars {
            let x0 = px(left, 0).0;
            let x1 = px(right, 0).0.max(x0 + 1);
            let mut base = 0u64;
            for c in Category::ALL.iter().copied() {
                let n = counts[c as usize];
                if n == 0 {
                    continue;
                }
                let height = base.saturating_add(n);
                let (mut y0, y1) = (px(middle, height).1, px(middle, base).1);
                if base == 0 && y0 >= y1 {
                    // A bar too short for the scale still shows a pixel.
                    y0 = y1 - 1;
                }
                if y0 < y1 {
                    fill_bar(&root, (x0, y0), (x1, y1), colour(c), hatched)?;
                }
                base = height;
            }
        }
    }

    if max == 0 {
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        let centre = ((xs.start + xs.end) / 2, (ys.start + ys.end) / 2);
        root.draw(&Text::new(
            "No flagged posts in this period",
            centre,
            (FONT, 20)
                .into_font()
                .color(&NOTE_GREY)
                .pos(Pos::new(HPos::Center, VPos::Center)),
        ))
        .map_err(draw_err)?;
    }

    draw_legend(&legend, &grid.categories())?;
    root.present().map_err(draw_err)?;
    Ok(())
}

/// Fills the pixels from `a` up to but not including `b` on `area`: solid in
/// `colour`, or hatched in `colour` over its tint.
fn fill_bar(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    a: (i32, i32),
    b: (i32, i32),
    colour: RGBColor,
    hatched: bool,
) -> Result<(), ChartError> {
    let fill = if hatched { tint(colour) } else { colour };
    // The bitmap backend fills a rectangle up to, not including, its second
    // corner.
    area.draw(&Rectangle::new([a, b], fill.filled()))
        .map_err(draw_err)?;
    if !hatched {
        return Ok(());
    }
    // Lines x + y = k for every k that is a multiple of HATCH, clipped to
    // the rectangle (whose last pixels are at x1, y1); anchoring k to the
    // image keeps the hatching continuous across the stacked segments of one
    // bar.
    let (x0, y0, x1, y1) = (a.0, a.1, b.0 - 1, b.1 - 1);
    let mut k = (x0 + y0).div_euclid(HATCH) * HATCH;
    while k <= x1 + y1 {
        let from = (k - y1).max(x0);
        let to = (k - y0).min(x1);
        if from <= to {
            area.draw(&PathElement::new(
                vec![(from, k - from), (to, k - to)],
                colour,
            ))
            .map_err(draw_err)?;
        }
        k += HATCH;
    }
    Ok(())
}

fn draw_legend(
    area: &DrawingArea<BitMapBackend<'_>, Shift>,
    categories: &[Category],
) -> Result<(), ChartError> {
    const ROW: i32 = 20;
    const SWATCH: i32 = 14;
    let heading = (FONT, 14).into_font().color(&BLACK);
    let entry = (FONT, 13)
        .into_font()
        .color(&AXIS_GREY)
        .pos(Pos::new(HPos::Left, VPos::Center));
    let small = (FONT, 11).into_font().color(&NOTE_GREY);
    let swatch = |y: i32, c: RGBColor, hatched: bool| {
        fill_bar(
            area,
            (8, y - SWATCH / 2),
            (8 + SWATCH, y + SWATCH / 2),
            c,
            hatched,
        )
    };
    let text = |s: &str, y: i32| {
        area.draw(&Text::new(s.to_owned(), (8 + SWATCH + 8, y), entry.clone()))
            .map_err(draw_err)
    };

    let mut y = 52;
    area.draw(&Text::new("Each day", (8, y), heading.clone()))
        .map_err(draw_err)?;
    y += ROW + 6;
    swatch(y, KEY_GREY, false)?;
    text("flagged (left)", y)?;
    y += ROW;
    swatch(y, KEY_GREY, true)?;
    text("actioned (right)", y)?;

    if !categories.is_empty() {
        y += ROW + 12;
        area.draw(&Text::new("Categories", (8, y), heading))
            .map_err(draw_err)?;
        y += ROW + 6;
        for &c in categories {
            swatch(y, colour(c), false)?;
            text(c.as_str(), y)?;
            y += ROW;
        }
    }

    let note_y = HEIGHT as i32 - 3 * 14 - MARGIN as i32;
    for (i, line) in ["A post with several", "categories counts once", "in each."]
        .into_iter()
        .enumerate()
    {
        area.draw(&Text::new(line, (8, note_y + 14 * i as i32), small.clone()))
            .map_err(draw_err)?;
    }
    Ok(())
}

/// The y axis: its top and the step between integer ticks, for the tallest
/// bar `max`. The step is 1, 2, 2.5 or 5 times a power of ten (2.5 only from
/// 25 up, so steps stay whole): the smallest that needs at most 7 intervals
/// to reach above `max`.
fn y_scale(max: u64) -> (u64, u64) {
    if max < 5 {
        return (5, 1);
    }
    let mut magnitude = 1u64;
    loop {
        // 2.5 times the magnitude, when that is a whole number.
        let two_and_a_half = if magnitude >= 10 {
            magnitude * 5 / 2
        } else {
            2 * magnitude
        };
        for step in [magnitude, 2 * magnitude, two_and_a_half, 5 * magnitude] {
            if max / step < 7 {
                return ((max / step + 1).saturating_mul(step), step);
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

fn y_ticks(top: u64, step: u64) -> Vec<u64> {
    let mut ticks = Vec::new();
    let mut v = 0u64;
    while v <= top {
        ticks.push(v);
        match v.checked_add(step) {
            Some(next) => v = next,
            None => break,
        }
    }
    ticks
}

/// Width of each of a day's two bars in x axis units: together they take
/// three quarters of the day, but no more than [`MAX_BAR`] pixels each.
fn bar_units(days: usize) -> i64 {
    let widest = f64::from(MAX_BAR) / day_pixels(days) * DAY as f64;
    (DAY * 3 / 8).min(widest as i64).max(1)
}

/// Pixels per day on the x axis.
fn day_pixels(days: usize) -> f64 {
    f64::from(PLOT_WIDTH) / days.max(1) as f64
}

/// The x axis ticks: the middle of every `n`th day from the first, with `n`
/// (1, 2, 3, a week, or a multiple of four weeks) large enough that the
/// labels do not collide.
fn x_ticks(days: usize) -> Vec<i64> {
    const LABEL: f64 = 62.0;
    let needed = (LABEL / day_pixels(days)).ceil() as usize;
    let every = match needed {
        0..=3 => needed.max(1),
        4..=7 => 7,
        8..=14 => 14,
        n => n.div_ceil(28) * 28,
    };
    (0..days)
        .step_by(every)
        .map(|i| DAY * i as i64 + DAY / 2)
        .collect()
}

/// `n` with thousands separators: 50000 → "50,000".
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `text`, shortened with "…" until it is at most `width` pixels wide in
/// `font`.
fn fit(text: &str, font: FontDesc<'_>, width: u32) -> String {
    let fits = |s: &str| font.box_size(s).map(|(w, _)| w <= width).unwrap_or(true);
    if fits(text) {
        return text.to_owned();
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let shortened: String = chars.iter().collect::<String>().trim_end().to_owned() + "…";
        if fits(&shortened) {
            return shortened;
        }
    }
    "…".to_owned()
}

/// Encodes the RGB buffer as PNG. Default compression with adaptive filtering
/// makes a 31-day chart about 45 kB (fast compression: about 290 kB) for
/// under 10 ms more; the attachment has to cross the network to Discord.
fn encode(rgb: &[u8]) -> Result<Vec<u8>, ChartError> {
    let mut out = Vec::with_capacity(64 * 1024);
    let mut encoder = png::Encoder::new(&mut out, WIDTH, HEIGHT);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Default);
    encoder.set_adaptive_filter(png::AdaptiveFilterType::Adaptive);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(rgb)?;
    writer.finish()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// A decoded chart: width, height and RGB bytes.
    struct Image {
        width: u32,
        height: u32,
        rgb: Vec<u8>,
    }

    impl Image {
        fn pixel(&self, x: u32, y: u32) -> [u8; 3] {
            let i = ((y * self.width + x) * 3) as usize;
            [self.rgb[i], self.rgb[i + 1], self.rgb[i + 2]]
        }

        /// How many pixels in column `x` of the plot part (left of the
        /// legend) have exactly `c`.
        fn column_count(&self, x: u32, c: RGBColor) -> usize {
            (0..self.height)
                .filter(|&y| self.pixel(x, y) == [c.0, c.1, c.2])
                .count()
        }

        /// Pixels of exactly `c` left of the legend.
        fn plot_count(&self, c: RGBColor) -> usize {
            (0..WIDTH - LEGEND_WIDTH)
                .map(|x| self.column_count(x, c))
                .sum()
        }

        /// Pixels of exactly `c` in the legend.
        fn legend_count(&self, c: RGBColor) -> usize {
            (WIDTH - LEGEND_WIDTH..WIDTH)
                .flat_map(|x| (0..self.height).map(move |y| (x, y)))
                .filter(|&(x, y)| self.pixel(x, y) == [c.0, c.1, c.2])
                .count()
        }

        /// Pixels in the box whose channels are all below `level`.
        fn dark_in(&self, xs: std::ops::Range<u32>, ys: std::ops::Range<u32>, level: u8) -> usize {
            xs.flat_map(|x| ys.clone().map(move |y| (x, y)))
                .filter(|&(x, y)| self.pixel(x, y).iter().all(|&v| v < level))
                .count()
        }
    }

    fn decode(png_bytes: &[u8]) -> Image {
        let decoder = png::Decoder::new(png_bytes);
        let mut reader = decoder.read_info().expect("PNG header");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("PNG data");
        assert_eq!(info.color_type, png::ColorType::Rgb);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        buf.truncate(info.buffer_size());
        Image {
            width: info.width,
            height: info.height,
            rgb: buf,
        }
    }

    fn render(days: &[DayCounts]) -> Image {
        render_with_title("Flagged and actioned posts, test trust", days)
    }

    fn render_with_title(title: &str, days: &[DayCounts]) -> Image {
        let bytes = render_png(title, days).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let image = decode(&bytes);
        assert_eq!((image.width, image.height), (WIDTH, HEIGHT));
        image
    }

    /// `n` days from 1 Nov 2025 with varied counts across all categories.
    fn period(n: usize) -> Vec<DayCounts> {
        (0..n)
            .map(|i| {
                let day = date(2025, 11, 1) + chrono::Days::new(i as u64);
                let flagged = Category::ALL
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| (i + k) % 3 != 0)
                    .map(|(k, &c)| (c, ((i * 7 + k * 3) % 11) as u64))
                    .collect();
                let actioned = Category::ALL
                    .iter()
                    .enumerate()
                    .filter(|(k, _)| (i + k) % 4 == 0)
                    .map(|(k, &c)| (c, ((i + k) % 5) as u64))
                    .collect();
                DayCounts {
                    day,
                    flagged,
                    actioned,
                }
            })
            .collect()
    }

    fn flagged_only(day: NaiveDate, counts: &[(Category, u64)]) -> DayCounts {
        DayCounts {
            day,
            flagged: counts.to_vec(),
            actioned: Vec::new(),
        }
    }

    /// Runs of adjacent plot columns holding colour `c`, as (first column,
    /// column count, tallest column).
    fn bars_of(image: &Image, c: RGBColor) -> Vec<(u32, u32, usize)> {
        let mut bars: Vec<(u32, u32, usize)> = Vec::new();
        for x in 0..WIDTH - LEGEND_WIDTH {
            let n = image.column_count(x, c);
            if n == 0 {
                continue;
            }
            match bars.last_mut() {
                Some((first, width, tallest)) if *first + *width == x => {
                    *width += 1;
                    *tallest = (*tallest).max(n);
                }
                _ => bars.push((x, 1, n)),
            }
        }
        bars
    }

    #[test]
    fn empty_input_draws_axes_and_the_note_at_full_size() {
        let image = render(&[]);
        // No category colour anywhere in the plot.
        for &c in Category::ALL {
            assert_eq!(image.plot_count(colour(c)), 0, "{c}");
            assert_eq!(image.plot_count(tint(colour(c))), 0, "{c}");
        }
        // The axes: a long dark vertical line (y axis) left of the plot.
        let axis_columns = (0..WIDTH - LEGEND_WIDTH)
            .filter(|&x| image.column_count(x, AXIS_GREY) > 300)
            .count();
        assert!(axis_columns >= 1, "no y axis line");
        // The note is text in the middle of the plot.
        let mid_x = (MARGIN + Y_LABEL_AREA + PLOT_WIDTH / 2) as i64;
        let xs = (mid_x - 200) as u32..(mid_x + 200) as u32;
        assert!(image.dark_in(xs, 250..330, 160) > 200, "no note text");
    }

    #[test]
    fn zero_counts_render_like_no_data() {
        let days: Vec<DayCounts> = (0..7)
            .map(|i| DayCounts {
                day: date(2025, 3, 3) + chrono::Days::new(i),
                flagged: vec![(Category::Spam, 0)],
                actioned: Vec::new(),
            })
            .collect();
        let image = render(&days);
        assert_eq!(image.plot_count(colour(Category::Spam)), 0);
        assert_eq!(image.legend_count(colour(Category::Spam)), 0);
        let mid_x = MARGIN + Y_LABEL_AREA + PLOT_WIDTH / 2;
        assert!(image.dark_in(mid_x - 200..mid_x + 200, 250..330, 160) > 200);
    }

    #[test]
    fn one_day_draws_its_categories_and_legend() {
        let day = DayCounts {
            day: date(2025, 11, 3),
            flagged: vec![(Category::Abuse, 4), (Category::Crisis, 2)],
            actioned: vec![(Category::Abuse, 3)],
        };
        let image = render(&[day]);
        let abuse = colour(Category::Abuse);
        let crisis = colour(Category::Crisis);
        assert!(image.plot_count(abuse) > 1000);
        assert!(image.plot_count(crisis) > 1000);
        // The actioned bar is hatched: its tint shows between the lines.
        assert!(image.plot_count(tint(abuse)) > 1000);
        assert_eq!(image.plot_count(tint(crisis)), 0);
        // Legend entries only for categories that occur.
        assert!(image.legend_count(abuse) > 100);
        assert!(image.legend_count(crisis) > 100);
        assert_eq!(image.legend_count(colour(Category::Spam)), 0);
        assert_eq!(image.plot_count(colour(Category::Spam)), 0);
    }

    #[test]
    fn a_month_and_four_months_render_at_full_size_with_bars() {
        for n in [31, 120] {
            let image = render(&period(n));
            let coloured: usize = Category::ALL
                .iter()
                .map(|&c| image.plot_count(colour(c)))
                .sum();
            assert!(coloured > 20_000, "{n} days: {coloured} coloured pixels");
            // Every day with counts has its own flagged bar: with one
            // category on its own, its bars come out one per day.
            let single: Vec<DayCounts> = (0..n)
                .map(|i| {
                    flagged_only(
                        date(2025, 1, 1) + chrono::Days::new(i as u64),
                        &[(Category::Illegal, 5)],
                    )
                })
                .collect();
            let bars = bars_of(&render(&single), colour(Category::Illegal));
            assert_eq!(bars.len(), n, "{n} days");
        }
    }

    #[test]
    fn bar_height_grows_with_the_count() {
        let abuse = colour(Category::Abuse);
        let days = [
            flagged_only(date(2025, 6, 1), &[(Category::Abuse, 10)]),
            flagged_only(date(2025, 6, 2), &[(Category::Abuse, 40)]),
            flagged_only(date(2025, 6, 3), &[(Category::Abuse, 20)]),
        ];
        let bars = bars_of(&render(&days), abuse);
        assert_eq!(bars.len(), 3, "{bars:?}");
        let heights: Vec<f64> = bars.iter().map(|b| b.2 as f64).collect();
        assert!(
            heights[0] < heights[2] && heights[2] < heights[1],
            "{heights:?}"
        );
        let ratio = heights[1] / heights[0];
        assert!((3.8..=4.2).contains(&ratio), "{heights:?}");
        // Bars sit left to right in date order, evenly spaced.
        assert!(bars[0].0 < bars[1].0 && bars[1].0 < bars[2].0);
        let gap = |a: usize, b: usize| bars[b].0 as i64 - bars[a].0 as i64;
        assert!((gap(0, 1) - gap(1, 2)).abs() <= 1);
    }

    #[test]
    fn segments_stack_on_each_other() {
        let (abuse, spam) = (colour(Category::Abuse), colour(Category::Spam));
        let alone = bars_of(
            &render(&[flagged_only(date(2025, 6, 1), &[(Category::Abuse, 30)])]),
            abuse,
        );
        // Same abuse count with spam stacked on it, and a taller day next to
        // it so the scale is the same (0..60 in both).
        let stacked = render(&[
            flagged_only(
                date(2025, 6, 1),
                &[(Category::Abuse, 30), (Category::Spam, 15)],
            ),
            flagged_only(date(2025, 6, 2), &[(Category::Hate, 50)]),
        ]);
        let _ = alone;
        let abuse_bars = bars_of(&stacked, abuse);
        let spam_bars = bars_of(&stacked, spam);
        assert_eq!((abuse_bars.len(), spam_bars.len()), (1, 1));
        // The spam segment is half as tall as the abuse one, in the same
        // columns, and sits directly on top of it.
        let (a, s) = (abuse_bars[0], spam_bars[0]);
        assert_eq!((a.0, a.1), (s.0, s.1));
        let ratio = s.2 as f64 / a.2 as f64;
        assert!((0.45..=0.55).contains(&ratio), "{a:?} {s:?}");
        let x = a.0 + a.1 / 2;
        let rows = |c: RGBColor| {
            (0..HEIGHT)
                .filter(|&y| stacked.pixel(x, y) == [c.0, c.1, c.2])
                .collect::<Vec<_>>()
        };
        let (abuse_rows, spam_rows) = (rows(abuse), rows(spam));
        assert!(spam_rows.last().unwrap() + 1 >= *abuse_rows.first().unwrap());
        assert!(spam_rows.last().unwrap() < abuse_rows.last().unwrap());
    }

    #[test]
    fn large_counts_fit_on_the_chart() {
        let abuse = colour(Category::Abuse);
        let days = [
            flagged_only(date(2025, 6, 1), &[(Category::Abuse, 50_000)]),
            flagged_only(date(2025, 6, 2), &[(Category::Abuse, 1_000)]),
        ];
        let bars = bars_of(&render(&days), abuse);
        assert_eq!(bars.len(), 2);
        // Tall but inside the image, and the small day still shows.
        assert!(bars[0].2 > 300 && bars[0].2 < HEIGHT as usize, "{bars:?}");
        assert!(bars[1].2 >= 5 && bars[1].2 < bars[0].2 / 20 + 2, "{bars:?}");
        assert_eq!(y_scale(50_000), (60_000, 10_000));
        assert_eq!(thousands(50_000), "50,000");
    }

    #[test]
    fn a_long_period_renders() {
        let image = render(&period(400));
        let coloured: usize = Category::ALL
            .iter()
            .map(|&c| image.plot_count(colour(c)))
            .sum();
        assert!(coloured > 10_000);
    }

    #[test]
    fn rendering_is_deterministic() {
        let days = period(31);
        assert_eq!(
            render_png("t", &days).unwrap(),
            render_png("t", &days).unwrap()
        );
    }

    #[test]
    fn days_are_sorted_gaps_filled_and_repeats_added() {
        let days = [
            DayCounts {
                day: date(2025, 2, 28),
                flagged: vec![(Category::Spam, 2), (Category::Spam, 3)],
                actioned: vec![(Category::Spam, 1)],
            },
            flagged_only(date(2025, 2, 25), &[(Category::Hate, 4)]),
            flagged_only(date(2025, 2, 28), &[(Category::Hate, 1)]),
        ];
        let grid = Grid::from_days(&days).unwrap();
        assert_eq!(grid.start, Some(date(2025, 2, 25)));
        assert_eq!(grid.slots.len(), 4);
        assert_eq!(grid.slots[0].flagged[Category::Hate as usize], 4);
        assert_eq!(grid.slots[1], Slot::default());
        assert_eq!(grid.slots[3].flagged[Category::Spam as usize], 5);
        assert_eq!(grid.slots[3].flagged[Category::Hate as usize], 1);
        assert_eq!(grid.slots[3].actioned[Category::Spam as usize], 1);
        assert_eq!(grid.max_bar(), 6);
        assert_eq!(grid.categories(), vec![Category::Hate, Category::Spam]);
        assert_eq!(grid.day(3), Some(date(2025, 2, 28)));
        assert_eq!(Grid::from_days(&[]).unwrap().slots.len(), 0);
    }

    #[test]
    fn spans_longer_than_max_days_are_refused() {
        let first = date(2025, 1, 1);
        let at = |n: u64| flagged_only(first + chrono::Days::new(n), &[(Category::Spam, 1)]);
        let longest = [at(0), at(MAX_DAYS as u64 - 1)];
        assert_eq!(Grid::from_days(&longest).unwrap().slots.len(), MAX_DAYS);
        let too_long = [at(MAX_DAYS as u64), at(0)];
        let e = render_png("t", &too_long).unwrap_err();
        assert!(
            matches!(e, ChartError::TooManyDays { days } if days == MAX_DAYS as u64 + 1),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            format!(
                "a chart shows at most {MAX_DAYS} days; these span {}",
                MAX_DAYS + 1
            )
        );
    }

    #[test]
    fn an_empty_title_leaves_the_top_blank() {
        let image = render_with_title("", &period(3));
        // No caption: the strip above the plot area, between the y labels
        // and the legend, is white.
        let xs = MARGIN + Y_LABEL_AREA + 10..WIDTH - LEGEND_WIDTH;
        let dark = image.dark_in(xs, 0..MARGIN, 250);
        assert_eq!(dark, 0);
        let titled = render_with_title("Last 3 days", &period(3));
        assert!(titled.dark_in(0..WIDTH - LEGEND_WIDTH, 0..40, 160) > 50);
    }

    #[test]
    fn category_index_is_its_position_in_all() {
        for (i, &c) in Category::ALL.iter().enumerate() {
            assert_eq!(c as usize, i);
        }
    }

    #[test]
    fn category_colours_are_distinct_and_not_grey_keys() {
        let mut seen: Vec<RGBColor> = Vec::new();
        for &c in Category::ALL {
            let col = colour(c);
            assert!(!seen.contains(&col), "{c} repeats a colour");
            assert!(!seen.contains(&tint(col)), "{c}'s tint repeats a colour");
            assert_ne!(col, KEY_GREY);
            assert_ne!(col, AXIS_GREY);
            seen.push(col);
        }
    }

    #[test]
    fn y_axis_has_integer_ticks_from_zero_above_the_tallest_bar() {
        for max in [
            0,
            1,
            4,
            5,
            6,
            7,
            12,
            99,
            100,
            101,
            999,
            1_234,
            50_000,
            1 << 40,
        ] {
            let (top, step) = y_scale(max);
            assert!(top > max, "{max}");
            assert!(step >= 1);
            assert_eq!(top % step, 0, "{max}");
            let ticks = y_ticks(top, step);
            assert_eq!(ticks[0], 0);
            assert_eq!(*ticks.last().unwrap(), top);
            assert!((4..=8).contains(&ticks.len()), "{max}: {ticks:?}");
        }
        assert_eq!(y_scale(0), (5, 1));
        assert!(y_scale(u64::MAX).0 >= u64::MAX / 2);
    }

    #[test]
    fn x_labels_thin_out_as_days_grow() {
        assert_eq!(x_ticks(0), Vec::<i64>::new());
        assert_eq!(x_ticks(1), vec![DAY / 2]);
        assert_eq!(x_ticks(7).len(), 7);
        let month = x_ticks(31);
        assert!(month.len() >= 10 && month.len() <= 16, "{}", month.len());
        for n in [90, 120, 400, 3_000] {
            let ticks = x_ticks(n);
            let spacing = (ticks[1] - ticks[0]) as f64 / DAY as f64 * day_pixels(n);
            assert!(spacing >= 62.0, "{n} days: {spacing}px between labels");
            assert!(ticks.len() >= 4, "{n} days: {} labels", ticks.len());
        }
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn long_titles_are_shortened_to_fit() {
        ensure_font().unwrap();
        let font = || (FONT, 22).into_font();
        let long = "Flagged and actioned posts ".repeat(20);
        let short = fit(&long, font(), 500);
        assert!(short.ends_with('…'));
        assert!(font().box_size(&short).unwrap().0 <= 500);
        assert!(font().box_size(&short).unwrap().0 > 400);
        assert_eq!(fit("Last 7 days", font(), 500), "Last 7 days");
    }

    /// plotters is built with `ab_glyph` only, so it knows just the fonts
    /// registered with it: the embedded one works, and a family that exists
    /// on most machines (DejaVu Serif, say) but was never registered does not.
    #[test]
    fn only_the_embedded_font_is_used() {
        ensure_font().unwrap();
        let (w, h) = (FONT, 20).into_font().box_size("No flagged posts").unwrap();
        assert!(w > 100 && h > 10, "{w}×{h}");
        assert!(FontDesc::new(FontFamily::Serif, 20.0, FontStyle::Normal)
            .box_size("x")
            .is_err());
        assert!(
            FontDesc::new(FontFamily::Name("DejaVu Sans"), 20.0, FontStyle::Normal)
                .box_size("x")
                .is_err()
        );
    }
}
