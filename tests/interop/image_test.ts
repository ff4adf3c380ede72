/**
 * Root phase of make test: the firmware image smoke test (tests/image/smoke_test.ts) — build,
 * layout, x86_64 launcher natively, aarch64 image under qemu-aarch64-static. It sits with the
 * root tests because it needs network on first use and takes about two minutes.
 * @module
 */

import "../image/smoke_test.ts";
