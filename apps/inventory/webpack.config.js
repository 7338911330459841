const { relayAppWebpackConfig } = require('../../tools/webpack/relay-app.webpack');

// inspector on 127.0.0.1:9231 with `nx serve inventory --inspect` (each app its own port)
module.exports = relayAppWebpackConfig({ app: 'inventory', inspectPort: 9231 });
