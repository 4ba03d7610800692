//! EXPLAIN's text laid out to be read at 100 columns, in the shell and over the wire alike:
//! an Intercom scan prints its requests on lines of their own under its node (see
//! `IntercomScanExec`'s display: continuation lines start at column 0, as no plan node does
//! after the first), indented under the node, and any line longer than [`WIDTH`] is wrapped
//! at a space or comma, its rest indented further. Applied to the `plan` column of EXPLAIN and
//! EXPLAIN ANALYZE answers by [`crate::limits::runtime::execute`].

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use datafusion::error::Result;

/// Columns a plan line may take by default (`intercom.explain_width`): what is left of 100
/// once a two-column table (`plan_type` and its borders) is drawn around it.
pub const WIDTH: usize = 78;

/// `batch` with its `plan` column laid out ([`lay_out`]) for `width` columns (0: lines are
/// not wrapped); other batches unchanged.
pub fn lay_out_batch(batch: RecordBatch, width: usize) -> Result<RecordBatch> {
    let Ok(index) = batch.schema().index_of("plan") else {
        return Ok(batch);
    };
    let Some(plans) = batch.column(index).as_any().downcast_ref::<StringArray>() else {
        return Ok(batch);
    };
    let laid_out: StringArray = plans.iter().map(|p| p.map(|p| lay_out(p, width))).collect();
    let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
    columns[index] = Arc::new(laid_out);
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

/// A plan's text (one node per line, two spaces of indentation per level) laid out: lines
/// after the first that start at column 0 continue the node above them and are indented
/// under it; lines longer than `width` are wrapped (none when `width` is 0).
pub fn lay_out(plan: &str, width: usize) -> String {
    let mut out = Vec::new();
    let mut node_indent = 0;
    for (i, line) in plan.lines().enumerate() {
        let indent = line.len() - line.trim_start().len();
        if i > 0 && indent == 0 && !line.is_empty() {
            // EXPLAIN ANALYZE appends the node's metrics to its last line: a line of their own.
            match line.split_once(", metrics=[") {
                Some((text, metrics)) => {
                    wrap(text, node_indent + 4, width, &mut out);
                    wrap(
                        &format!("metrics=[{metrics}"),
                        node_indent + 4,
                        width,
                        &mut out,
                    );
                }
                None => wrap(line, node_indent + 4, width, &mut out),
            }
        } else {
            node_indent = indent;
            wrap(line.trim_start(), indent, width, &mut out);
        }
    }
    let mut text = out.join("\n");
    if plan.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// `text` at `indent`, in lines of at most `width` columns where it can be broken (after a
/// space or a comma), the rest 4 columns further in; one line when `width` is 0.
fn wrap(text: &str, indent: usize, width: usize, out: &mut Vec<String>) {
    let mut rest = text;
    let mut at = indent;
    loop {
        let room = width.saturating_sub(at).max(20);
        if width == 0 || rest.chars().count() <= room {
            out.push(format!("{:at$}{rest}", ""));
            return;
        }
        let limit = rest
            .char_indices()
            .nth(room)
            .map_or(rest.len(), |(byte, _)| byte);
        let head = &rest[..limit];
        let cut = head
            .rfind(' ')
            .map(|b| b + 1)
            .or_else(|| head.rfind(',').map(|b| b + 1))
            .filter(|&b| b > room / 3)
            .unwrap_or(limit);
        out.push(format!("{:at$}{}", "", rest[..cut].trim_end()));
        rest = rest[cut..].trim_start();
        if rest.is_empty() {
            return;
        }
        at = indent + 4;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scans_print_their_requests_under_them_within_the_width() {
        let plan = "GlobalLimitExec: skip=0, fetch=5\n  CooperativeExec\n    IntercomScanExec: \
                    table=contacts, limit=5, projection=[id, email]\nrequest: POST /contacts/search \
                    {\"query\":{\"operator\":\"AND\",\"value\":[{\"field\":\"created_at\",\
                    \"operator\":\">\",\"value\":1793740411},{\"field\":\"role\",\"operator\":\"=\",\
                    \"value\":\"lead\"}]}} per_page=5 (search pages)\nfilter: role@1 = lead\n";
        let laid_out = lay_out(plan, WIDTH);
        let lines: Vec<&str> = laid_out.lines().collect();
        assert_eq!(lines[0], "GlobalLimitExec: skip=0, fetch=5");
        assert_eq!(lines[1], "  CooperativeExec");
        assert!(lines[2].starts_with("    IntercomScanExec: table=contacts"));
        assert!(
            lines[3].starts_with("        request: POST /contacts/search"),
            "{laid_out}"
        );
        assert!(
            lines.iter().all(|l| l.chars().count() <= WIDTH),
            "{laid_out}"
        );
        assert_eq!(*lines.last().unwrap(), "        filter: role@1 = lead");
        // Nothing is lost but the breaks and indentation.
        let squeeze = |s: &str| s.split_whitespace().collect::<String>();
        assert_eq!(squeeze(&laid_out), squeeze(plan));
        assert!(laid_out.ends_with('\n'));
    }

    #[test]
    fn a_scans_metrics_get_a_line_of_their_own() {
        let plan = "IntercomScanExec: table=tags, projection=[id]\nrequest: GET /tags \
                    (single pages)\nfilter: id@0 = 1, metrics=[output_rows=1, requests=1]\n";
        assert_eq!(
            lay_out(plan, WIDTH),
            "IntercomScanExec: table=tags, projection=[id]\n    request: GET /tags (single \
             pages)\n    filter: id@0 = 1\n    metrics=[output_rows=1, requests=1]\n"
        );
    }

    #[test]
    fn short_plans_are_unchanged() {
        let plan = "ProjectionExec: expr=[1 as x]\n  PlaceholderRowExec\n";
        assert_eq!(lay_out(plan, WIDTH), plan);
        // Width 0: continuation lines indented, nothing wrapped.
        let long = format!(
            "IntercomScanExec: table=tags\nrequest: {}\n",
            "x ".repeat(60)
        );
        assert_eq!(
            lay_out(&long, 0).lines().nth(1).unwrap().len(),
            4 + "request: ".len() + 120
        );
    }
}
