//! The targets file of fleet mode: one gateway per line, `HOST [CA-FILE]`, `#` comments, read
//! as a stream (the file is never held whole), from a file or from standard input.

use std::io::{self, BufRead};
use std::path::{Path, PathBuf};
use std::thread;

use tokio::sync::mpsc;

/// One gateway to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetLine {
    /// 1-based line number in the targets file.
    pub line: usize,
    pub gateway: String,
    /// The root CA file for this gateway; `None` means the global `--ca-file` (or the system
    /// store).
    pub ca_file: Option<PathBuf>,
}

/// A line that names no checkable target.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: expected `HOST [CA-FILE]`, found {count} fields (`{text}`)")]
pub struct TargetLineError {
    pub line: usize,
    pub count: usize,
    pub text: String,
}

/// Parses line `line` of a targets file. Blank lines and comments give `Ok(None)`. A `#` that
/// starts a field starts a comment (so `gw.contoso.com  # plant 3` works, while a path with a
/// `#` inside it still does). A relative CA file is taken relative to `base_directory`, the
/// targets file's own directory, so a file and its CA files can move together.
pub fn parse_target_line(
    line: usize,
    text: &str,
    base_directory: &Path,
) -> Result<Option<TargetLine>, TargetLineError> {
    let fields: Vec<&str> = text
        .split_whitespace()
        .take_while(|field| !field.starts_with('#'))
        .collect();
    match fields.as_slice() {
        [] => Ok(None),
        [gateway] => Ok(Some(TargetLine {
            line,
            gateway: (*gateway).to_owned(),
            ca_file: None,
        })),
        [gateway, ca_file] => Ok(Some(TargetLine {
            line,
            gateway: (*gateway).to_owned(),
            ca_file: Some(base_directory.join(ca_file)),
        })),
        _ => Err(TargetLineError {
            line,
            count: fields.len(),
            text: fields.join(" "),
        }),
    }
}

/// A line as read: its number and text, or the read error that ended the file.
pub type ReadLine = Result<(usize, String), io::Error>;

/// Reads `reader` line by line on a thread of its own (standard input blocks, and a file read
/// is blocking I/O) and hands the lines over through a bounded channel, so at most `buffer`
/// lines are held ahead of the checks. Bytes that are not UTF-8 are replaced, not fatal: the
/// gateway name check then reports the name. The thread ends at end of input, at the first
/// read error (sent as the last item), or when the receiver is dropped.
pub fn read_lines(reader: Box<dyn BufRead + Send>, buffer: usize) -> mpsc::Receiver<ReadLine> {
    let (sender, receiver) = mpsc::channel(buffer.max(1));
    // A plain thread rather than tokio's blocking pool: a read blocked on a terminal must not
    // keep the runtime from shutting down.
    thread::spawn(move || {
        let mut reader = reader;
        let mut bytes = Vec::new();
        let mut number = 0;
        loop {
            bytes.clear();
            number += 1;
            let item = match reader.read_until(b'\n', &mut bytes) {
                Ok(0) => return,
                Ok(_) => Ok((number, String::from_utf8_lossy(&bytes).into_owned())),
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {
                    number -= 1;
                    continue;
                }
                Err(error) => Err(error),
            };
            let last = item.is_err();
            if sender.blocking_send(item).is_err() || last {
                return;
            }
        }
    });
    receiver
}

/// How many targets `reader` lists, reading it once without keeping it (for the progress
/// bar's total). Unusable lines count: they are reported as results too.
pub fn count_targets(reader: impl BufRead) -> io::Result<u64> {
    let mut count = 0;
    for line in reader.split(b'\n') {
        let line = line?;
        let text = String::from_utf8_lossy(&line);
        if matches!(
            parse_target_line(0, &text, Path::new("")),
            Ok(Some(_)) | Err(_)
        ) {
            count += 1;
        }
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<TargetLine>, TargetLineError> {
        parse_target_line(7, text, Path::new("/etc/edgeprobe"))
    }

    #[test]
    fn lines_are_host_and_optional_ca_file_with_comments() {
        assert_eq!(parse(""), Ok(None));
        assert_eq!(parse("   \t "), Ok(None));
        assert_eq!(parse("# plant 3"), Ok(None));
        assert_eq!(parse("  #gw.contoso.com root.pem"), Ok(None));
        assert_eq!(
            parse("gw.contoso.com\n"),
            Ok(Some(TargetLine {
                line: 7,
                gateway: "gw.contoso.com".into(),
                ca_file: None
            }))
        );
        assert_eq!(
            parse("gw.contoso.com\troots/plant3.pem   # plant 3\r\n"),
            Ok(Some(TargetLine {
                line: 7,
                gateway: "gw.contoso.com".into(),
                ca_file: Some(PathBuf::from("/etc/edgeprobe/roots/plant3.pem"))
            }))
        );
        assert_eq!(
            parse("gw.contoso.com /abs/root#2.pem")
                .unwrap()
                .unwrap()
                .ca_file,
            Some(PathBuf::from("/abs/root#2.pem")),
            "an absolute path stays as it is, and a # inside a field is not a comment"
        );
        let error = parse("gw.contoso.com root.pem extra # note").unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 7: expected `HOST [CA-FILE]`, found 3 fields (`gw.contoso.com root.pem extra`)"
        );
    }

    #[tokio::test]
    async fn lines_stream_with_their_numbers_and_a_read_error_ends_them() {
        let input = b"a\n\nb c\n\xffbad\nlast-without-newline".to_vec();
        let mut lines = read_lines(Box::new(io::Cursor::new(input)), 2);
        let mut seen = Vec::new();
        while let Some(item) = lines.recv().await {
            let (number, text) = item.expect("a cursor cannot fail");
            seen.push((number, text));
        }
        assert_eq!(
            seen,
            vec![
                (1, "a\n".to_owned()),
                (2, "\n".to_owned()),
                (3, "b c\n".to_owned()),
                (4, "\u{fffd}bad\n".to_owned()),
                (5, "last-without-newline".to_owned()),
            ]
        );

        struct Failing;
        impl io::Read for Failing {
            fn read(&mut self, _buffer: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("device unplugged"))
            }
        }
        let mut lines = read_lines(Box::new(io::BufReader::new(Failing)), 2);
        assert!(
            matches!(lines.recv().await, Some(Err(error)) if error.to_string() == "device unplugged")
        );
        assert!(lines.recv().await.is_none());
    }

    #[test]
    fn counting_skips_blank_lines_and_comments_only() {
        let text = "# fleet\ngw-1\n\ngw-2 root.pem\nbad line here\n  # end\n";
        assert_eq!(count_targets(io::Cursor::new(text)).unwrap(), 3);
    }
}
