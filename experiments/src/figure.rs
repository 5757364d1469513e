//! Figures: each is drawn once by a [`Draw`] implementation and rendered to SVG and PNG.
//! Text uses DejaVu Sans embedded at build time, so PNGs are identical on every machine.

use std::sync::Once;

use anyhow::anyhow;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::*;

/// Something that can draw itself on any plotters backend.
pub trait Draw {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> anyhow::Result<()>;
}

/// A rendered figure; its name is the file stem under `paper_figures/`.
#[derive(Clone, Debug)]
pub struct Figure {
    pub name: String,
    pub svg: String,
    pub png: Vec<u8>,
}

/// Turn a plotters error (generic over the backend) into anyhow.
pub fn plot_err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("drawing failed: {e:?}")
}

pub const FONT: &str = "sans-serif";

fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let fonts = [(FontStyle::Normal, dejavu::sans::regular()), (FontStyle::Bold, dejavu::sans::bold())];
        for (style, bytes) in fonts {
            if plotters::style::register_font(FONT, style, bytes).is_err() {
                panic!("the embedded DejaVu Sans font must load");
            }
        }
    });
}

/// Render `figure` at `width × height` pixels to SVG and PNG.
pub fn render(name: &str, (width, height): (u32, u32), figure: &impl Draw) -> anyhow::Result<Figure> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        figure.draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    let mut rgb = vec![0u8; (width * height * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        figure.draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    let mut png = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut png, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.write_header()?.write_image_data(&rgb)?;
    }
    Ok(Figure { name: name.to_string(), svg, png })
}

/// Draw a chart's series legend in the project's style at `position`.
pub fn draw_legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>, position: SeriesLabelPosition) -> anyhow::Result<()>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.9))
        .border_style(palette::GRID)
        .label_font((FONT, 12))
        .draw()
        .map_err(plot_err)
}

/// One panel of a row of scatter plots on [0, 1] × [0, 1] (an AUC or a score on each axis) in
/// the project's style: an optional caption, a light grid, a description under each axis.
pub fn unit_square_panel<'a, DB: DrawingBackend>(
    area: &'a DrawingArea<DB, Shift>,
    caption: Option<&str>,
    x_desc: &str,
    y_desc: &str,
) -> anyhow::Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>> {
    let mut builder = ChartBuilder::on(area);
    builder.margin(14).x_label_area_size(40).y_label_area_size(50);
    if let Some(caption) = caption {
        builder.caption(caption, (FONT, 16).into_font().color(&palette::INK));
    }
    let mut chart = builder.build_cartesian_2d(0f64..1f64, 0f64..1f64).map_err(plot_err)?;
    chart
        .configure_mesh()
        .light_line_style(palette::GRID.mix(0.5))
        .bold_line_style(palette::GRID)
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style((FONT, 12).into_font().color(&palette::INK))
        .draw()
        .map_err(plot_err)?;
    Ok(chart)
}

/// Label budgets under an x axis drawn on the log2 position scale (plotters cannot format custom
/// key points of an f64 axis, so the labels are placed by hand): `ticks` are `(x, label)` pairs and
/// `to_pixel` maps a chart coordinate on the axis to the backend.
pub fn x_tick_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    ticks: &[(f64, String)],
    to_pixel: impl Fn(f64) -> (i32, i32),
    size: u32,
) -> anyhow::Result<()> {
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let style = (FONT, size).into_font().color(&palette::INK).pos(Pos::new(HPos::Center, VPos::Top));
    for (x, label) in ticks {
        let (px, py) = to_pixel(*x);
        root.draw(&PathElement::new(vec![(px, py), (px, py + 3)], palette::INK)).map_err(plot_err)?;
        root.draw(&Text::new(label.clone(), (px, py + 5), style.clone())).map_err(plot_err)?;
    }
    Ok(())
}

/// Offsets (in pixels, from each anchor) for point labels of the given sizes that do not overlap
/// one another: each label starts up and to the right of its point and, if it would cover a label
/// already placed, moves by its own height up or down (nearest free slot first); a label that would
/// run past `right` (the plot's right edge, in pixels) goes to the left of its point. Labels are
/// placed from the top of the chart down, so the result does not depend on the order of the points.
pub fn label_offsets(anchors: &[(i32, i32)], sizes: &[(u32, u32)], right: i32) -> Vec<(i32, i32)> {
    const START: (i32, i32) = (6, -14);
    let mut order: Vec<usize> = (0..anchors.len()).collect();
    order.sort_by_key(|&i| (anchors[i].1, anchors[i].0));
    let mut placed: Vec<[i32; 4]> = Vec::new();
    let mut offsets = vec![START; anchors.len()];
    for i in order {
        let ((x, y), (w, h)) = (anchors[i], (sizes[i].0 as i32, sizes[i].1 as i32));
        let dx = if x + START.0 + w > right { -START.0 - w } else { START.0 };
        let boxed = |dy: i32| [x + dx, y + START.1 + dy, x + dx + w, y + START.1 + dy + h];
        let overlaps = |b: &[i32; 4]| placed.iter().any(|p| boxes_overlap(b, p));
        let shifts = (0..12).flat_map(|k| [-k * h, (k + 1) * h]);
        let dy = std::iter::once(0).chain(shifts).find(|&dy| !overlaps(&boxed(dy))).unwrap_or(0);
        placed.push(boxed(dy));
        offsets[i] = (dx, START.1 + dy);
    }
    offsets
}

/// Whether two pixel boxes `[left, top, right, bottom]` share any area.
fn boxes_overlap(a: &[i32; 4], b: &[i32; 4]) -> bool {
    a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]
}

/// Colours of the three families, and neutral inks, used by every figure.
pub mod palette {
    use dataeff::Family;
    use plotters::style::RGBColor;

    pub const INK: RGBColor = RGBColor(40, 40, 40);
    pub const GRID: RGBColor = RGBColor(225, 225, 225);
    pub const MUTED: RGBColor = RGBColor(150, 150, 150);

    pub fn family(f: Family) -> RGBColor {
        match f {
            Family::Llama => RGBColor(46, 109, 164),
            Family::Mistral => RGBColor(214, 118, 38),
            Family::Qwen => RGBColor(62, 150, 81),
        }
    }

    /// A sequential blue scale for `t ∈ [0, 1]` (light to dark).
    pub fn sequential(t: f64) -> RGBColor {
        let t = t.clamp(0.0, 1.0);
        let lerp = |a: f64, b: f64| (a + (b - a) * t).round() as u8;
        RGBColor(lerp(170.0, 8.0), lerp(205.0, 48.0), lerp(230.0, 107.0))
    }
}

#[cfg(test)]
mod tests {
    use super::{boxes_overlap, label_offsets};

    /// The pixel box a label covers at `offset` from its anchor.
    fn boxed((x, y): (i32, i32), (w, h): (u32, u32), (dx, dy): (i32, i32)) -> [i32; 4] {
        [x + dx, y + dy, x + dx + w as i32, y + dy + h as i32]
    }

    #[test]
    fn labels_of_nearby_points_do_not_overlap_and_stay_inside_the_right_edge() {
        let anchors = [(100, 100), (104, 102), (98, 99), (300, 50), (390, 200)];
        let sizes = [(80, 11), (60, 11), (70, 11), (40, 11), (50, 11)];
        let offsets = label_offsets(&anchors, &sizes, 400);
        let boxes: Vec<[i32; 4]> = (0..anchors.len()).map(|i| boxed(anchors[i], sizes[i], offsets[i])).collect();
        for (i, a) in boxes.iter().enumerate() {
            for b in &boxes[i + 1..] {
                assert!(!boxes_overlap(a, b), "{a:?} overlaps {b:?}");
            }
            assert!(a[2] <= 400, "{a:?} runs past the right edge");
        }
        assert_eq!(offsets[3], (6, -14), "a lone label keeps its place");
        assert_eq!(offsets[4], (-56, -14), "a label at the right edge goes left of its point");
    }
}
