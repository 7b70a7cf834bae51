// Stands in for every `string-width` the CLI bundle holds (yargs, cliui and wrap-ansi each import one;
// see bundle-cli.mjs). The real module builds an Intl.Segmenter and Unicode property regexes when it
// is loaded, about 25 ms at every start of a command, for help text that is almost always plain
// ASCII. Here a string of printable ASCII characters is as wide as it is long (what string-width
// answers for it too), and the real module is loaded the first time a string is not.
let realWidth;

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

export default function stringWidth(text, options) {
  if (typeof text === "string" && PRINTABLE_ASCII.test(text)) return text.length;
  // A require: esbuild then bundles the module so that it is set up on this first call, not at start.
  realWidth ??= require("string-width").default;
  return realWidth(text, options);
}
