// The reference side of the conformance lane: npm twitter-text 3.1.0 (pinned by the
// package-lock.json beside this file), asked once for a whole batch. Each line on stdin is a JSON
// request, each line on stdout the JSON answer, in order:
//   {"text": "..."}            -> {"weightedLength": 12, "valid": true}  (parseTweet, v3 config)
//   {"op": "data"}             -> the data Earshot keeps a copy of (top-level domains, emoji regex)
//   {"op": "class", "name": n} -> every UTF-16 code unit twitter-text's regex n matches alone
// Run by tests/conformance/conftest.py; NODE_PATH points at the installed node_modules.
'use strict';
const readline = require('readline');
const twttr = require('twitter-text');
const regexpDir = 'twitter-text/dist/regexp/';

if (twttr.configs.defaults.version !== 3) {
  throw new Error(`twitter-text's default config is v${twttr.configs.defaults.version}, not v3`);
}

function regexp(name) {
  const module = require(regexpDir + name);
  return module.default || module;
}

function tlds(name) {
  // validGTLD / validCCTLD: (?:(?:a|b|c)(?=[^0-9a-zA-Z@+-]|$))
  const source = regexp(name).source;
  const inner = source.match(/^\(\?:\(\?:(.*)\)\(\?=\[\^0-9a-zA-Z@\+-\]\|\$\)\)$/);
  if (!inner) throw new Error(`unexpected shape of ${name}: ${source.slice(0, 80)}`);
  return inner[1].split('|');
}

function withoutTlds(source) {
  const cut = source
    .split(regexp('validGTLD').source)
    .join('<GTLD>')
    .split(regexp('validCCTLD').source)
    .join('<CCTLD>');
  if (cut.includes('|aaa|') || !cut.includes('<GTLD>')) throw new Error('TLDs not cut out');
  return cut;
}

function data() {
  const emoji = require('twemoji-parser/dist/lib/regex');
  return {
    twitterText: require('twitter-text/package.json').version,
    twemojiParser: require('twemoji-parser/package.json').version,
    punycode: require('punycode/package.json').version,
    gTLDs: tlds('validGTLD'),
    ccTLDs: tlds('validCCTLD'),
    emoji: (emoji.default || emoji).source,
    // twitter-text's link regexes with the two top-level domain lists cut out (<GTLD>, <CCTLD>)
    extractUrl: withoutTlds(regexp('extractUrl').source),
    validAsciiDomain: withoutTlds(regexp('validAsciiDomain').source),
  };
}

// A regex of twitter-text's, or a class of one, matched against one code unit at a time (with
// the flags twitter-text compiles it with: the case-insensitive ones are what matter here).
const CLASSES = {
  urlPreceding: () => new RegExp(`^${regexp('validUrlPrecedingChars').source}$`),
  domainChar: () => new RegExp(`^${regexp('validDomainChars').source}$`, 'i'),
  pathChar: () => new RegExp(`^${regexp('validGeneralUrlPathChars').source}$`, 'i'),
  pathEnd: () => new RegExp(`^(?:${regexp('validUrlPathEndingChars').source})$`, 'i'),
  queryChar: () => new RegExp(`^${regexp('validUrlQueryChars').source}$`, 'i'),
  queryEnd: () => new RegExp(`^${regexp('validUrlQueryEndingChars').source}$`, 'i'),
  asciiDomainChar: () => new RegExp(`^[\\-a-z0-9${regexp('latinAccentChars').source}]$`, 'i'),
  invalid: () => regexp('invalidChars'),
};

function codeUnits(pattern) {
  const found = [];
  for (let unit = 0; unit < 0x10000; unit++) {
    if (pattern.test(String.fromCharCode(unit))) found.push(unit);
  }
  return found;
}

// Which code units the case-insensitive TLD alternatives accept in place of each TLD character.
function tldCaseVariants() {
  const chars = new Set([...tlds('validGTLD'), ...tlds('validCCTLD')].join(''));
  const variants = {};
  for (const char of chars) {
    const pattern = new RegExp(`^${char.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&')}$`, 'i');
    variants[char] = codeUnits(pattern).map((unit) => String.fromCharCode(unit)).join('');
  }
  return variants;
}

function answer(request) {
  if (request.op === 'data') return data();
  if (request.op === 'class') return codeUnits(CLASSES[request.name]());
  if (request.op === 'tldCase') return tldCaseVariants();
  const parsed = twttr.parseTweet(request.text);
  return { weightedLength: parsed.weightedLength, valid: parsed.valid };
}

const out = [];
readline
  .createInterface({ input: process.stdin, crlfDelay: Infinity })
  .on('line', (line) => {
    if (line) out.push(JSON.stringify(answer(JSON.parse(line))));
  })
  .on('close', () => process.stdout.write(out.length ? `${out.join('\n')}\n` : ''));
