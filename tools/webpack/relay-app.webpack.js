const { NxAppWebpackPlugin } = require('@nx/webpack/app-plugin');
const { fork } = require('node:child_process');
const { constants } = require('node:os');
const { join } = require('node:path');

const WORKSPACE_ROOT = join(__dirname, '..', '..');

/**
 * `nx serve <app>` is `webpack-cli watch --env serve`: after every build without errors this plugin
 * stops the running app (SIGTERM, then waits for it to exit so its ports are free) and starts the new
 * bundle, so a change in the app or in any library it imports restarts it. A build with errors leaves
 * the running app alone. Nx's @nx/js:node executor does not do it for a command-built app: its restart
 * needs the Nx daemon, and in Nx 23.2 a change saved during a rebuild leaves the app stopped.
 */
class RestartAfterBuild {
  /** @param {string | undefined} inspect `--inspect` for the app's Node (off when undefined) */
  constructor(inspect) {
    this.inspect = inspect;
    this.app = null;
  }

  apply(compiler) {
    // webpack waits for this hook before it watches again: restarts never overlap.
    compiler.hooks.done.tapPromise(RestartAfterBuild.name, async (stats) => {
      if (stats.hasErrors()) return;
      await this.stop();
      const execArgv = ['--enable-source-maps', ...(this.inspect ? [`--inspect=${this.inspect}`] : [])];
      // from the workspace root, as `npm start` runs the apps: a relative DATA_DIR (`.data`) is the same
      // directory for both, not apps/<app>/.data (nx runs this watch in the project's directory)
      this.app = fork(join(compiler.options.output.path, 'main.js'), [], {
        cwd: WORKSPACE_ROOT,
        execArgv,
        stdio: 'inherit',
      });
    });
    // webpack-cli's watch ends on a signal without an 'exit' event: stop the app first, so it never
    // outlives `nx serve`. A second signal the app may get itself (Ctrl+C) is ignored by Nest's hooks.
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
      process.once(signal, () => this.stop().then(() => process.exit(128 + constants.signals[signal])));
    }
    process.once('exit', () => this.app?.kill('SIGTERM'));
  }

  /** Stops the running app; SIGKILL if its shutdown hooks take more than 10 s. */
  stop() {
    const app = this.app;
    if (!app || app.exitCode !== null || app.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => app.kill('SIGKILL'), 10_000);
      app.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      app.kill('SIGTERM');
    });
  }
}

/** `--env inspect=<value>` of `nx serve <app> --inspect[=host:port]`: '' or absent means no inspector. */
function inspectAddress(value, defaultPort) {
  if (!value) return undefined;
  return value === 'true' || value === true ? `127.0.0.1:${defaultPort}` : String(value);
}

/**
 * The webpack config of a Relay app (`apps/<app>/webpack.config.js`): a Node bundle in
 * `dist/apps/<app>`, and with `--env serve` (`nx serve <app>`) the restart above.
 *
 * @param {{ app: string, inspectPort: number }} settings `inspectPort`: the app's own port for
 *   `nx serve <app> --inspect`, so every app can be inspected at once
 */
function relayAppWebpackConfig({ app, inspectPort }) {
  return (env = {}) => ({
    output: {
      path: join(__dirname, `../../dist/apps/${app}`),
      clean: true,
      ...(process.env.NODE_ENV !== 'production' && {
        devtoolModuleFilenameTemplate: '[absolute-resource-path]',
      }),
    },
    plugins: [
      new NxAppWebpackPlugin({
        target: 'node',
        compiler: 'tsc',
        main: './src/main.ts',
        tsConfig: './tsconfig.app.json',
        optimization: false,
        outputHashing: 'none',
        generatePackageJson: true,
        sourceMap: true,
      }),
      ...(env.serve ? [new RestartAfterBuild(inspectAddress(env.inspect, inspectPort))] : []),
    ],
  });
}

module.exports = { relayAppWebpackConfig };
