#![allow(clippy::unwrap_used, clippy::expect_used)]
use fauxkey::fixtures::*;
#[test]
fn smoke() {
    let c = generate(&FixtureOptions {
        negative: true,
        ..FixtureOptions::default()
    })
    .unwrap();
    c.write_to(std::path::Path::new("/tmp/fx1")).ok();
    println!("{}", c.text("manifest.json").unwrap());
}
