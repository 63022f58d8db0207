//! The page: `host/assets/report/report.html` with the data document, the page's own
//! script and style and the vendored libraries inlined, every placeholder replaced in one
//! pass (the contract is `host/assets/report/README.md`; `tests/py/report_sample.py` is its
//! reference implementation).

use super::data::Report;
use super::ReportError;

const TEMPLATE: &str = include_str!("../../assets/report/report.html");
const CSS: &str = include_str!("../../assets/report/report.css");
const JS: &str = include_str!("../../assets/report/report.js");
/// `vendor/manifest.txt`: the order the vendored files are inlined in.
const MANIFEST: &str = include_str!("../../assets/report/vendor/manifest.txt");
/// The vendored files, by name (a test checks this is exactly the manifest).
const VENDOR: &[(&str, &str)] = &[
    (
        "d3.min.js",
        include_str!("../../assets/report/vendor/d3.min.js"),
    ),
    (
        "plot.umd.min.js",
        include_str!("../../assets/report/vendor/plot.umd.min.js"),
    ),
    (
        "gridjs.umd.js",
        include_str!("../../assets/report/vendor/gridjs.umd.js"),
    ),
];

const DATA: &str = "/*MRHOST_REPORT_DATA*/null";
const PLACEHOLDERS: [&str; 5] = [
    DATA,
    "/*MRHOST_CSS*/",
    "/*MRHOST_JS*/",
    "/*MRHOST_VENDOR_JS*/",
    "/*MRHOST_VENDOR_CSS*/",
];

fn manifest() -> Vec<&'static str> {
    MANIFEST
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

fn vendor(ext: &str, sep: &str) -> Result<String, ReportError> {
    let mut parts = Vec::new();
    for name in manifest().into_iter().filter(|n| n.ends_with(ext)) {
        let text = VENDOR
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .ok_or_else(|| {
                ReportError::Template(format!("vendor/{name} is in the manifest, not embedded"))
            })?;
        parts.push(text);
    }
    Ok(parts.join(sep))
}

/// The data as it goes into `<script type="application/json">`: compact, every `<` escaped
/// so no value can close the element.
pub fn data_json(report: &Report) -> Result<String, ReportError> {
    let text = serde_json::to_string(report)
        .map_err(|e| ReportError::Template(format!("the data document: {e}")))?;
    Ok(text.replace('<', "\\u003c"))
}

fn closes_element(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.contains("</script") || l.contains("</style") || l.contains("<!--")
}

/// The whole page for a report.
pub fn render(report: &Report) -> Result<String, ReportError> {
    render_json(&data_json(report)?)
}

fn render_json(data: &str) -> Result<String, ReportError> {
    let subs: [(&str, String); 5] = [
        (DATA, data.to_string()),
        ("/*MRHOST_CSS*/", CSS.to_string()),
        ("/*MRHOST_JS*/", JS.to_string()),
        ("/*MRHOST_VENDOR_JS*/", vendor(".js", "\n;\n")?),
        ("/*MRHOST_VENDOR_CSS*/", vendor(".css", "\n")?),
    ];
    for key in PLACEHOLDERS {
        let n = TEMPLATE.matches(key).count();
        if n != 1 {
            return Err(ReportError::Template(format!(
                "{key} occurs {n} times in report.html"
            )));
        }
    }
    for (key, text) in subs.iter().skip(1) {
        if closes_element(text) {
            return Err(ReportError::Template(format!(
                "the text for {key} would close its element"
            )));
        }
    }
    // One pass: find each placeholder's position in the template, then stitch.
    let mut at: Vec<(usize, &str, &str)> = subs
        .iter()
        .filter_map(|(k, v)| TEMPLATE.find(k).map(|i| (i, *k, v.as_str())))
        .collect();
    at.sort_by_key(|(i, _, _)| *i);
    let mut out =
        String::with_capacity(TEMPLATE.len() + subs.iter().map(|(_, v)| v.len()).sum::<usize>());
    let mut pos = 0;
    for (i, k, v) in at {
        out.push_str(TEMPLATE.get(pos..i).unwrap_or_default());
        out.push_str(v);
        pos = i + k.len();
    }
    out.push_str(TEMPLATE.get(pos..).unwrap_or_default());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_vendored_file_of_the_manifest_is_embedded() {
        let listed: Vec<&str> = manifest();
        let embedded: Vec<&str> = VENDOR.iter().map(|(n, _)| *n).collect();
        assert_eq!(listed, embedded);
    }

    #[test]
    fn placeholders_are_replaced_once_and_data_cannot_close_the_script() {
        let data = "{\"x\":\"\\u003c/script>/*MRHOST_JS*/\"}";
        let page = render_json(data).unwrap();
        for key in PLACEHOLDERS {
            // Only where the data holds it.
            assert_eq!(
                page.matches(key).count(),
                data.matches(key).count(),
                "{key} left in the page"
            );
        }
        // The data went in verbatim: a placeholder inside it is not replaced again.
        assert!(page.contains("{\"x\":\"\\u003c/script>/*MRHOST_JS*/\"}"));
        assert_eq!(page.matches("</script>").count(), 3);
        assert!(page.contains("Observable Plot") || page.contains("observablehq"));
    }
}
