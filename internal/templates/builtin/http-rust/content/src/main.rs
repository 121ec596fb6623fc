// {{project-name}}: an HTTP handler for Wisp written in Rust (std only).
//
// It runs as a WAGI component: Wisp starts this WASI program once per
// request. The request arrives as CGI environment variables (REQUEST_METHOD,
// PATH_INFO, QUERY_STRING, HTTP_* headers) with the body on stdin; the
// response goes to stdout as CGI: header lines, a blank line, the body.
use std::env;
use std::io::{self, Read, Write};

fn main() -> io::Result<()> {
    let method = env::var("REQUEST_METHOD").unwrap_or_default();
    let path = env::var("PATH_INFO").unwrap_or_default();
    let mut body = Vec::new();
    io::stdin().read_to_end(&mut body)?;

    let mut out = io::stdout().lock();
    write!(out, "Content-Type: text/plain; charset=utf-8\n\n")?;
    writeln!(out, "Hello, Fermyon! (from Wisp and Rust)")?;
    writeln!(out, "{} {} ({} bytes of body)", method, path, body.len())?;
    Ok(())
}
