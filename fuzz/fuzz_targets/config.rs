//! Config parsing and validation: any text gives a config or located errors, never a panic,
//! and every accepted feed id is a safe file name.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scifeed::config::{Overrides, parse, valid_id};

fuzz_target!(|text: &str| {
    let path = std::path::Path::new("/fuzz/scifeed.toml");
    if let Ok(cfg) = parse(text, path, &Overrides::default()) {
        for f in &cfg.feeds {
            assert!(valid_id(&f.id), "{:?}", f.id);
            assert!(!f.id.contains('/') && !f.id.contains(".."), "{:?}", f.id);
        }
    }
});
