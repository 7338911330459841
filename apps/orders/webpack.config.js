const { relayAppWebpackConfig } = require('../../tools/webpack/relay-app.webpack');

// inspector on 127.0.0.1:9230 with `nx serve orders --inspect` (each app its own port)
module.exports = relayAppWebpackConfig({ app: 'orders', inspectPort: 9230 });
