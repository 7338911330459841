const nxPreset = require('@nx/jest/preset').default;

module.exports = {
  ...nxPreset,
  // Specs close what they open; on CI a leaked handle must still not hang the run for 90 minutes.
  forceExit: process.env.CI === 'true',
};
