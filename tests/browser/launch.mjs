// The headless Chromium the browser tests drive: Debian's (LB_CHROMIUM, default /usr/bin/chromium) through
// playwright-core, which downloads no browser. playwright-core gives every launch a fresh, empty --user-data-dir.
import { chromium } from 'playwright-core';

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.LB_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    chromiumSandbox: false, // --no-sandbox: root in a container
    args: ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}
