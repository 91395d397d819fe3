"""Browser tests of the widget bundles (Chromium + Playwright)."""
