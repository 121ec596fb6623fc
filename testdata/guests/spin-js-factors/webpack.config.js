// Bundles src/spin.js into one ES module (dist.js) for j2w. SpinSdkPlugin
// marks the WIT interface imports (fermyon:spin/*, wasi:*) as externals so
// ComponentizeJS binds them to component imports.
const path = require("path");
const SpinSdkPlugin = require("@fermyon/spin-sdk/plugins/webpack");

module.exports = {
  entry: "./src/spin.js",
  experiments: {
    outputModule: true,
  },
  output: {
    path: path.resolve(__dirname, "./"),
    filename: "dist.js",
    module: true,
    library: {
      type: "module",
    },
  },
  plugins: [new SpinSdkPlugin()],
  optimization: {
    minimize: false,
  },
};
