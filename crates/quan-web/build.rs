//! Builds the front end (`web/`, through npm: `vite build` also gzips every file beside itself)
//! into `web/dist`, which this crate embeds.
//!
//! `QUAN_WEB_PREBUILT=1` skips npm and embeds `web/dist` as it is (a build someone made
//! already); without npm on the machine the build fails saying what to install.

use std::path::Path;
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
    let prebuilt = std::env::var_os("QUAN_WEB_PREBUILT").is_some_and(|v| v == "1");
    if !prebuilt {
        if !web.join("node_modules").is_dir() {
            npm(&web, &["ci", "--no-audit", "--no-fund"]);
        }
        npm(&web, &["exec", "--", "vite", "build", "--logLevel", "warn"]);
    }
    let dist = web.join("dist");
    assert!(
        dist.join("console.html").is_file(),
        "{} has no built front end: run `npm ci && npm run build` in web/",
        dist.display()
    );
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
