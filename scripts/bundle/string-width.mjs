// Stands in for every `string-width` the CLI bundle holds (yargs, cliui and wrap-ansi each import one,
// not all of the same version; see bundle-cli.mjs). The real module builds an Intl.Segmenter and
// Unicode property regexes when it is loaded, about 25 ms at every start of a command, for help text
// that is almost always plain ASCII. Here a string of printable ASCII characters is as wide as it is
// long (what every version of string-width answers for it too), and the real module, the one its
// importer would have had, is loaded the first time a string is not.

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** A string-width that loads the real one (`load()`) only for a string that is not printable ASCII. */
export function lazyStringWidth(load) {
  let realWidth;
  return function stringWidth(text, options) {
    if (typeof text === "string" && PRINTABLE_ASCII.test(text)) return text.length;
    realWidth ??= load();
    return realWidth(text, options);
  };
}
