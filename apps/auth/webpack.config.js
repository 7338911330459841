const { relayAppWebpackConfig } = require('../../tools/webpack/relay-app.webpack');

// inspector on 127.0.0.1:9229 with `nx serve auth --inspect` (each app its own port)
module.exports = relayAppWebpackConfig({ app: 'auth', inspectPort: 9229 });
