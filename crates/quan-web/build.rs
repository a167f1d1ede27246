//! Builds the front end (`web/`, through npm) into `web/dist` and gzips every asset beside
//! itself, so the binary embeds the console and the member pages, compressed once.
//!
//! `QUAN_WEB_PREBUILT=1` skips npm and embeds `web/dist` as it is (a build that someone made
//! already); without npm on the machine the build fails with what to install.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let web = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web");
    for input in [
        "src",
        "console.html",
        "claim.html",
        "center.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "tsconfig.json",
    ] {
        println!("cargo:rerun-if-changed={}", web.join(input).display());
    }
    println!("cargo:rerun-if-env-changed=QUAN_WEB_PREBUILT");
    let dist = web.join("dist");
    let prebuilt = std::env::var_os("QUAN_WEB_PREBUILT").is_some_and(|v| v == "1");
    if !prebuilt {
        if !web.join("node_modules").is_dir() {
            npm(&web, &["ci", "--no-audit", "--no-fund"]);
        }
        npm(&web, &["exec", "--", "vite", "build", "--logLevel", "warn"]);
    }
    if !dist.join("console.html").is_file() {
        panic!(
            "{} has no built front end: run `npm ci && npm run build` in web/",
            dist.display()
        );
    }
    for file in files(&dist) {
        gzip_beside(&file);
    }
}

fn npm(dir: &Path, args: &[&str]) {
    let status = Command::new("npm")
        .args(args)
        .current_dir(dir)
        .status()
        .unwrap_or_else(|e| {
            panic!("npm {args:?} could not start ({e}): install Node.js 20 and npm")
        });
    assert!(status.success(), "npm {args:?} failed in {}", dir.display());
}

/// Every file under `dir` but the `.gz` ones.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).expect("read web/dist").flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files(&path));
        } else if path.extension().is_none_or(|e| e != "gz") {
            out.push(path);
        }
    }
    out
}

fn gzip_beside(file: &Path) {
    let bytes = fs::read(file).expect("read asset");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&bytes).expect("gzip");
    let mut name = file.as_os_str().to_owned();
    name.push(".gz");
    fs::write(PathBuf::from(name), gz.finish().expect("gzip")).expect("write gzip");
}
