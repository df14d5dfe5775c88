//! Reads OpenSSL's `test/recipes/25-test_verify.t` (Perl) into its verify cases: every
//! `ok(verify(cert, purpose, [trusted...], [untrusted...], opts...), "name")` and `ok(!...)`,
//! also through wrappers such as `sub vfy_root { verify($rootcertname, "", [], [], @_) }`, inside
//! SKIP blocks and `with({ exit_checker => ... })`. Enough Perl for this file: strings (with
//! `$var`/`${var}` interpolation), `qw(...)`, `[...]` lists, `my` scalars and arrays,
//! `srctop_file(...)` and `.` concatenation. What it cannot evaluate stays [`Value::Unknown`],
//! with its source text, so the case can be reported as not runnable rather than guessed.

use std::collections::BTreeMap;
use std::path::Path;

/// One `ok(verify(...))` of the recipe.
#[derive(Debug, Clone)]
pub struct Case {
    /// The test's description, as `prove` prints it.
    pub name: String,
    pub line: usize,
    /// What the recipe expects of `openssl verify`: `ok(` passes, `ok(!` (or an exit checker
    /// that wants a non-zero status) fails.
    pub expect_pass: bool,
    /// The message of the SKIP block the case is in, if any.
    pub skip_block: Option<String>,
    /// The certificate's file name under test/certs, without `.pem`.
    pub cert: Value,
    /// `-purpose`, empty for none.
    pub purpose: Value,
    /// Files under test/certs, without `.pem`, each given as `-trusted`.
    pub trusted: Vec<Value>,
    /// Files under test/certs, without `.pem`, each given as `-untrusted`.
    pub untrusted: Vec<Value>,
    /// Everything after the four fixed arguments: `-partial_chain`, `-verify_depth`, `2`, ...
    pub options: Vec<Value>,
}

/// A Perl value the recipe passes: known text, or an expression this reader cannot evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Unknown(String),
}

impl Value {
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(text) => Some(text),
            Value::Unknown(_) => None,
        }
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Text(text) => write!(formatter, "{text}"),
            Value::Unknown(source) => write!(formatter, "<{source}>"),
        }
    }
}

/// The recipe's verify cases, its other tests (by name) and what could not be read.
#[derive(Debug, Default)]
pub struct Recipe {
    pub cases: Vec<Case>,
    /// `ok(...)` tests that do not call `verify` (e.g. the mixed cert-and-key files, the CRL
    /// CVE test): not part of the comparison.
    pub other_tests: Vec<String>,
    /// `plan tests => N`.
    pub planned: Option<usize>,
    /// `ok(verify(...))` calls whose shape was not understood: the reader needs work.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    /// A quoted string: raw text, and whether it interpolates (double quotes).
    Str(String, bool),
    Qw(Vec<String>),
    Scalar(String),
    Array(String),
    Word(String),
    Punct(char),
}

#[derive(Debug, Clone)]
struct Located {
    token: Token,
    line: usize,
}

/// What a verify call's argument list holds once Perl flattens it.
#[derive(Debug, Clone)]
enum Arg {
    Scalar(Value),
    /// `[...]`, an array reference.
    List(Vec<Value>),
}

#[derive(Default)]
struct Environment {
    scalars: BTreeMap<String, Value>,
    arrays: BTreeMap<String, Vec<Value>>,
    /// `sub NAME { verify(ARGS) }`: the token range of ARGS.
    wrappers: BTreeMap<String, (usize, usize)>,
}

/// Reads `source` (the recipe's text); `srctop` is the source tree `srctop_file` resolves in.
pub fn parse(source: &str, srctop: &Path) -> Recipe {
    let tokens = tokenize(source);
    let mut reader = Reader {
        tokens: &tokens,
        srctop,
        environment: Environment::default(),
        recipe: Recipe::default(),
    };
    reader.scan();
    reader.recipe
}

struct Reader<'t> {
    tokens: &'t [Located],
    srctop: &'t Path,
    environment: Environment,
    recipe: Recipe,
}

impl Reader<'_> {
    fn token(&self, index: usize) -> Option<&Token> {
        self.tokens.get(index).map(|located| &located.token)
    }

    fn is(&self, index: usize, expected: &Token) -> bool {
        self.token(index) == Some(expected)
    }

    fn word(&self, index: usize) -> Option<&str> {
        match self.token(index) {
            Some(Token::Word(word)) => Some(word),
            _ => None,
        }
    }

    /// The index of the bracket closing the one at `open`.
    fn matching(&self, open: usize) -> usize {
        let mut depth = 0usize;
        for index in open..self.tokens.len() {
            match self.token(index) {
                Some(Token::Punct('(' | '[' | '{')) => depth += 1,
                Some(Token::Punct(')' | ']' | '}')) => {
                    depth -= 1;
                    if depth == 0 {
                        return index;
                    }
                }
                _ => {}
            }
        }
        self.tokens.len()
    }

    /// The next `;` at this bracket depth, from `start`.
    fn statement_end(&self, start: usize) -> usize {
        let mut index = start;
        while index < self.tokens.len() {
            match self.token(index) {
                Some(Token::Punct(';')) => return index,
                Some(Token::Punct('(' | '[' | '{')) => index = self.matching(index) + 1,
                _ => index += 1,
            }
        }
        index
    }

    /// The top-level comma-separated ranges of `start..end`.
    fn split_arguments(&self, start: usize, end: usize) -> Vec<(usize, usize)> {
        let mut ranges = Vec::new();
        let mut from = start;
        let mut index = start;
        while index < end {
            match self.token(index) {
                Some(Token::Punct(',')) => {
                    ranges.push((from, index));
                    from = index + 1;
                    index += 1;
                }
                Some(Token::Punct('(' | '[' | '{')) => index = self.matching(index) + 1,
                _ => index += 1,
            }
        }
        ranges.push((from, end));
        ranges.retain(|(from, to)| from < to);
        ranges
    }

    fn source_text(&self, start: usize, end: usize) -> String {
        self.tokens[start..end.min(self.tokens.len())]
            .iter()
            .map(|located| match &located.token {
                Token::Str(text, true) => format!("\"{text}\""),
                Token::Str(text, false) => format!("'{text}'"),
                Token::Qw(words) => format!("qw({})", words.join(" ")),
                Token::Scalar(name) => format!("${name}"),
                Token::Array(name) => format!("@{name}"),
                Token::Word(word) => word.clone(),
                Token::Punct(punct) => punct.to_string(),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn scan(&mut self) {
        let mut skip_blocks: Vec<(usize, Option<String>)> = Vec::new();
        let mut exit_checkers: Vec<(usize, i64)> = Vec::new();
        let mut index = 0;
        while index < self.tokens.len() {
            skip_blocks.retain(|(end, _)| index < *end);
            exit_checkers.retain(|(end, _)| index < *end);
            let word = self.word(index).map(str::to_owned);
            match word.as_deref() {
                Some("plan")
                    if self.word(index + 1) == Some("tests")
                        && self.is(index + 2, &Token::Punct('='))
                        && self.is(index + 3, &Token::Punct('>')) =>
                {
                    self.recipe.planned = self.word(index + 4).and_then(|n| n.parse().ok());
                    index += 5;
                }
                Some("my") => index = self.declaration(index),
                Some("sub") if self.word(index + 1).is_some() => index = self.subroutine(index),
                Some("SKIP")
                    if self.is(index + 1, &Token::Punct(':'))
                        && self.is(index + 2, &Token::Punct('{')) =>
                {
                    let end = self.matching(index + 2);
                    let message = (index + 3..end).find_map(|at| {
                        (self.word(at) == Some("skip"))
                            .then(|| self.scalar(at + 1, at + 2))
                            .and_then(|value| value.text().map(str::to_owned))
                    });
                    skip_blocks.push((end, message));
                    index += 3;
                }
                Some("with") if self.is(index + 1, &Token::Punct('(')) => {
                    let end = self.matching(index + 1);
                    // `exit_checker => sub { return shift == N; }`
                    let wanted = (index + 2..end).find_map(|at| {
                        (self.word(at) == Some("shift")
                            && self.is(at + 1, &Token::Punct('='))
                            && self.is(at + 2, &Token::Punct('=')))
                        .then(|| self.word(at + 3).and_then(|n| n.parse::<i64>().ok()))
                        .flatten()
                    });
                    if let Some(status) = wanted {
                        exit_checkers.push((end, status));
                    }
                    index += 2;
                }
                Some("ok" | "ok_nofips") if self.is(index + 1, &Token::Punct('(')) => {
                    let skip = skip_blocks.last().and_then(|(_, message)| message.clone());
                    let status = exit_checkers.last().map(|(_, status)| *status);
                    index = self.test(index, skip, status);
                }
                _ => index += 1,
            }
        }
    }

    /// `my $name = EXPR;` or `my @name = (LIST);`; anything else `my` starts is passed over.
    fn declaration(&mut self, index: usize) -> usize {
        let end = self.statement_end(index);
        if !self.is(index + 2, &Token::Punct('=')) {
            return index + 1;
        }
        match self.token(index + 1).cloned() {
            Some(Token::Scalar(name)) => {
                let value = self.scalar(index + 3, end);
                self.environment.scalars.insert(name, value);
            }
            Some(Token::Array(name)) => {
                let values = self.flat_arguments(index + 3, end);
                self.environment.arrays.insert(name, values);
            }
            _ => return index + 1,
        }
        end + 1
    }

    /// `sub NAME { ... }`: a wrapper when its body is one `verify(...)` call; `verify` itself
    /// (the recipe's definition) is what the suite re-implements.
    fn subroutine(&mut self, index: usize) -> usize {
        let Some(name) = self.word(index + 1).map(str::to_owned) else {
            return index + 1;
        };
        if !self.is(index + 2, &Token::Punct('{')) {
            return index + 2;
        }
        let end = self.matching(index + 2);
        if name != "verify"
            && self.word(index + 3) == Some("verify")
            && self.is(index + 4, &Token::Punct('('))
        {
            let close = self.matching(index + 4);
            self.environment.wrappers.insert(name, (index + 5, close));
        }
        end + 1
    }

    /// `ok(verify(...), "name")`, `ok(!verify(...), "name")`, or another `ok(...)`.
    fn test(&mut self, index: usize, skip_block: Option<String>, status: Option<i64>) -> usize {
        let open = index + 1;
        let close = self.matching(open);
        let line = self.tokens[index].line;
        let mut at = open + 1;
        let negated = self.is(at, &Token::Punct('!'));
        if negated {
            at += 1;
        }
        let arguments = self.split_arguments(open + 1, close);
        let name = arguments
            .get(1)
            .map(|&(from, to)| self.scalar(from, to))
            .map_or_else(|| format!("line {line}"), |value| value.to_string());
        let callee = self.word(at).map(str::to_owned);
        let is_call = self.is(at + 1, &Token::Punct('('));
        let wrapper = callee
            .as_deref()
            .and_then(|callee| self.environment.wrappers.get(callee).copied());
        let fixed: Vec<Arg> = match (callee.as_deref(), is_call, wrapper) {
            (Some("verify"), true, _) => {
                let call_close = self.matching(at + 1);
                self.arguments(at + 2, call_close, &[])
            }
            (Some(_), true, Some((from, to))) => {
                let call_close = self.matching(at + 1);
                let spliced = self.flat_arguments(at + 2, call_close);
                self.arguments(from, to, &spliced)
            }
            _ => {
                self.recipe.other_tests.push(name);
                return close + 1;
            }
        };
        let mut fixed = fixed.into_iter();
        let (
            Some(Arg::Scalar(cert)),
            Some(Arg::Scalar(purpose)),
            Some(Arg::List(trusted)),
            Some(Arg::List(untrusted)),
        ) = (fixed.next(), fixed.next(), fixed.next(), fixed.next())
        else {
            self.recipe
                .problems
                .push(format!("line {line} ({name}): verify's first four arguments are not (cert, purpose, [trusted], [untrusted])"));
            return close + 1;
        };
        let mut options = Vec::new();
        for arg in fixed {
            match arg {
                Arg::Scalar(value) => options.push(value),
                Arg::List(_) => self.recipe.problems.push(format!(
                    "line {line} ({name}): a list among verify's options"
                )),
            }
        }
        let expect_pass = match status {
            Some(status) => (status == 0) != negated,
            None => !negated,
        };
        self.recipe.cases.push(Case {
            name,
            line,
            expect_pass,
            skip_block,
            cert,
            purpose,
            trusted,
            untrusted,
            options,
        });
        close + 1
    }

    /// `arguments` (no `@_`) with the `[...]` lists spread into their values too.
    fn flat_arguments(&self, start: usize, end: usize) -> Vec<Value> {
        self.arguments(start, end, &[])
            .into_iter()
            .flat_map(|arg| match arg {
                Arg::Scalar(value) => vec![value],
                Arg::List(values) => values,
            })
            .collect()
    }

    /// A call's arguments, flattened as Perl flattens them; `@_` is `splice`.
    fn arguments(&self, start: usize, end: usize, splice: &[Value]) -> Vec<Arg> {
        let mut args = Vec::new();
        for (from, to) in self.split_arguments(start, end) {
            match (self.token(from), to - from) {
                (Some(Token::Array(name)), 1) if name == "_" => {
                    args.extend(splice.iter().cloned().map(Arg::Scalar));
                }
                (Some(Token::Array(name)), 1) => match self.environment.arrays.get(name) {
                    Some(values) => args.extend(values.iter().cloned().map(Arg::Scalar)),
                    None => args.push(Arg::Scalar(Value::Unknown(format!("@{name}")))),
                },
                (Some(Token::Qw(words)), 1) => {
                    args.extend(
                        words
                            .iter()
                            .cloned()
                            .map(|word| Arg::Scalar(Value::Text(word))),
                    );
                }
                (Some(Token::Punct('[')), _) if self.matching(from) == to - 1 => {
                    let values = self
                        .arguments(from + 1, to - 1, splice)
                        .into_iter()
                        .flat_map(|arg| match arg {
                            Arg::Scalar(value) => vec![value],
                            Arg::List(values) => vec![Value::Unknown(format!("[{values:?}]"))],
                        })
                        .collect();
                    args.push(Arg::List(values));
                }
                (Some(Token::Punct('(')), _) if self.matching(from) == to - 1 => {
                    args.extend(self.arguments(from + 1, to - 1, splice));
                }
                _ => args.push(Arg::Scalar(self.scalar(from, to))),
            }
        }
        args
    }

    /// A scalar expression: strings, variables, `srctop_file(...)`, joined with `.`.
    fn scalar(&self, start: usize, end: usize) -> Value {
        let mut text = String::new();
        let mut index = start;
        let unknown = || Value::Unknown(self.source_text(start, end));
        while index < end {
            let piece = match self.token(index) {
                Some(Token::Str(raw, interpolates)) => {
                    index += 1;
                    if *interpolates {
                        match self.interpolate(raw) {
                            Some(text) => text,
                            None => return unknown(),
                        }
                    } else {
                        raw.clone()
                    }
                }
                Some(Token::Scalar(name)) => {
                    index += 1;
                    match self.environment.scalars.get(name) {
                        Some(Value::Text(text)) => text.clone(),
                        _ => return unknown(),
                    }
                }
                Some(Token::Word(word))
                    if word == "srctop_file" && self.is(index + 1, &Token::Punct('(')) =>
                {
                    let close = self.matching(index + 1);
                    let mut path = self.srctop.to_path_buf();
                    for arg in self.arguments(index + 2, close, &[]) {
                        match arg {
                            Arg::Scalar(Value::Text(part)) => path.push(part),
                            _ => return unknown(),
                        }
                    }
                    index = close + 1;
                    path.display().to_string()
                }
                Some(Token::Word(number)) if number.chars().all(|c| c.is_ascii_digit()) => {
                    index += 1;
                    number.clone()
                }
                _ => return unknown(),
            };
            text.push_str(&piece);
            if index < end {
                if self.is(index, &Token::Punct('.')) {
                    index += 1;
                } else {
                    return unknown();
                }
            }
        }
        if start == end {
            return unknown();
        }
        Value::Text(text)
    }

    /// A double-quoted string's `$name` and `${name}` replaced; `None` when a variable is not
    /// known.
    fn interpolate(&self, raw: &str) -> Option<String> {
        let mut out = String::new();
        let mut chars = raw.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('n') => out.push('\n'),
                    Some('t') => out.push('\t'),
                    Some(other) => out.push(other),
                    None => {}
                },
                '$' => {
                    let braced = chars.peek() == Some(&'{');
                    if braced {
                        chars.next();
                    }
                    let mut name = String::new();
                    while let Some(&next) = chars.peek() {
                        if next.is_ascii_alphanumeric() || next == '_' {
                            name.push(next);
                            chars.next();
                        } else {
                            break;
                        }
                    }
                    if braced && chars.next() != Some('}') {
                        return None;
                    }
                    match self.environment.scalars.get(&name) {
                        Some(Value::Text(text)) => out.push_str(text),
                        _ => return None,
                    }
                }
                other => out.push(other),
            }
        }
        Some(out)
    }
}

fn tokenize(source: &str) -> Vec<Located> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1;
    let mut index = 0;
    let identifier = |c: char| c.is_ascii_alphanumeric() || c == '_';
    while index < chars.len() {
        let c = chars[index];
        let start_line = line;
        let mut push = |token: Token| {
            tokens.push(Located {
                token,
                line: start_line,
            })
        };
        match c {
            '\n' => {
                line += 1;
                index += 1;
            }
            c if c.is_whitespace() => index += 1,
            '#' => {
                while index < chars.len() && chars[index] != '\n' {
                    index += 1;
                }
            }
            '"' | '\'' => {
                let quote = c;
                let mut text = String::new();
                index += 1;
                while index < chars.len() && chars[index] != quote {
                    if chars[index] == '\\' && index + 1 < chars.len() {
                        // Keep escapes for interpolation to decode; single quotes only know \\ and \'.
                        if quote == '"' {
                            text.push('\\');
                        }
                        index += 1;
                    }
                    if chars[index] == '\n' {
                        line += 1;
                    }
                    text.push(chars[index]);
                    index += 1;
                }
                index += 1;
                push(Token::Str(text, quote == '"'));
            }
            '$' | '@' if index + 1 < chars.len() && (identifier(chars[index + 1])) => {
                let mut name = String::new();
                index += 1;
                while index < chars.len() && identifier(chars[index]) {
                    name.push(chars[index]);
                    index += 1;
                }
                push(if c == '$' {
                    Token::Scalar(name)
                } else {
                    Token::Array(name)
                });
            }
            c if identifier(c) => {
                let mut word = String::new();
                while index < chars.len()
                    && (identifier(chars[index])
                        || chars[index] == ':'
                            && index + 1 < chars.len()
                            && chars[index + 1] == ':')
                {
                    if chars[index] == ':' {
                        word.push_str("::");
                        index += 2;
                        continue;
                    }
                    word.push(chars[index]);
                    index += 1;
                }
                // qw(...) and qw/.../: a list of words.
                if word == "qw" && index < chars.len() && !chars[index].is_whitespace() {
                    let open = chars[index];
                    let close = match open {
                        '(' => ')',
                        '[' => ']',
                        '{' => '}',
                        '<' => '>',
                        other => other,
                    };
                    let mut body = String::new();
                    index += 1;
                    while index < chars.len() && chars[index] != close {
                        if chars[index] == '\n' {
                            line += 1;
                        }
                        body.push(chars[index]);
                        index += 1;
                    }
                    index += 1;
                    push(Token::Qw(
                        body.split_whitespace().map(str::to_owned).collect(),
                    ));
                } else {
                    push(Token::Word(word));
                }
            }
            other => {
                push(Token::Punct(other));
                index += 1;
            }
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"
my @certspath = qw(test certs);
sub verify {
    my ($cert, $purpose, $trusted, $untrusted, @opts) = @_;
    push(@args, "-purpose", $purpose) if $purpose ne "";
}
plan tests => 4;
ok(verify("ee-cert", "sslserver", [qw(root-cert)], ["ca-cert"]), "accept");
SKIP: {
    skip "no EC", 1 if disabled("ec"); # a comment with (parens
    ok(!verify("ee", "", [], [], "-partial_chain", "-attime", "1623060000"),
       "reject");
}
my $name = "root-cert";
my $file = srctop_file(@certspath, "${name}.pem");
sub wrapped { verify($name, "", [], [], @_) }
with({ exit_checker => sub { return shift == 2; } },
     sub { ok(wrapped("-CAfile", $file), "wrapped"); });
ok(run(app(["openssl", "verify"])), 'other');
"#;

    #[test]
    fn reads_calls_lists_wrappers_and_expectations() {
        let recipe = parse(SAMPLE, Path::new("/src"));
        assert!(recipe.problems.is_empty(), "{:?}", recipe.problems);
        assert_eq!(recipe.planned, Some(4));
        assert_eq!(recipe.other_tests, vec!["other".to_owned()]);
        let [accept, reject, wrapped] = recipe.cases.as_slice() else {
            panic!("{:#?}", recipe.cases);
        };
        assert_eq!(accept.name, "accept");
        assert!(accept.expect_pass);
        assert_eq!(accept.trusted, vec![Value::Text("root-cert".into())]);
        assert_eq!(accept.untrusted, vec![Value::Text("ca-cert".into())]);
        assert_eq!(reject.line, 11);
        assert!(!reject.expect_pass);
        assert_eq!(reject.skip_block.as_deref(), Some("no EC"));
        assert_eq!(reject.options.len(), 3);
        assert_eq!(wrapped.cert, Value::Text("root-cert".into()));
        assert!(!wrapped.expect_pass, "exit_checker wants status 2");
        assert_eq!(
            wrapped.options,
            vec![
                Value::Text("-CAfile".into()),
                Value::Text("/src/test/certs/root-cert.pem".into())
            ]
        );
    }
}
