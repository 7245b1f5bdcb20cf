#!/usr/bin/env node
// Validate Dashboard Studio definitions with Splunk's own validator (@splunk/dashboard-validation
// DashboardValidator, schema from @splunk/dashboard-definition createSchemaBasedOnPresets over the
// Enterprise preset). Usage: node validate.js FILE.xml|FILE.json ...  Prints one JSON line per file:
// {"file": ..., "valid": bool, "errors": [...]} and exits 1 if any file is invalid.
'use strict';
const fs = require('fs');
const path = require('path');

// The presets import React components that touch window/document at load time: give node a DOM.
const { JSDOM } = require('jsdom');
const dom = new JSDOM('<!doctype html><html><body></body></html>', { url: 'http://localhost/' });
global.window = dom.window;
// Like jsdom-global: expose every window property node lacks (devicePixelRatio, HTMLElement, ...).
for (const key of Object.getOwnPropertyNames(dom.window)) {
  // Event classes must be jsdom's, or jsdom's dispatchEvent rejects node's own events.
  if (!(key in global) || /^(Event|CustomEvent|EventTarget)$/.test(key)) {
    try { global[key] = dom.window[key]; } catch (e) { /* some are read-only */ }
  }
}
global.window.matchMedia = global.window.matchMedia || (() => ({ matches: false, addListener() {}, removeListener() {},
  addEventListener() {}, removeEventListener() {} }));
global.matchMedia = global.window.matchMedia;
global.ResizeObserver = global.ResizeObserver || class { observe() {} unobserve() {} disconnect() {} };
global.window.ResizeObserver = global.ResizeObserver;
global.requestAnimationFrame = global.requestAnimationFrame || ((cb) => setTimeout(cb, 0));
// maplibre (the map visualization) turns its worker into a blob URL at load time.
global.window.URL.createObjectURL = global.window.URL.createObjectURL || (() => 'blob:validation');
global.URL.createObjectURL = global.URL.createObjectURL || global.window.URL.createObjectURL;
// The search-bar component expects the Ace editor on window; validation never renders it.
global.window.ace = global.window.ace || { require() { return {}; }, define() {}, config: { set() {} } };

// Some visualization packages require() their CSS (a bundler feature): ignore it in node.
require.extensions['.css'] = () => {};

const { DashboardValidator } = require('@splunk/dashboard-validation');
const { createSchemaBasedOnPresets } = require('@splunk/dashboard-definition');
const presetModule = require('@splunk/dashboard-presets/EnterprisePreset');
const preset = presetModule.default || presetModule;

function definitionOf(file) {
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.json')) return JSON.parse(text);
  const m = text.match(/<definition><!\[CDATA\[([\s\S]*)\]\]><\/definition>/);
  if (!m) throw new Error('no <definition><![CDATA[...]]> in ' + file);
  if (!/<dashboard version="2"/.test(text)) throw new Error('not a Dashboard Studio (version="2") view: ' + file);
  return JSON.parse(m[1]);
}

const validator = new DashboardValidator();
const schemaError = validator.setSchema(createSchemaBasedOnPresets(preset));
if (schemaError) { console.error('schema error', schemaError); process.exit(2); }

let failed = 0;
for (const file of process.argv.slice(2)) {
  let errors;
  try {
    errors = validator.validate(definitionOf(file)) || [];
  } catch (e) {
    errors = [{ message: String(e && e.message || e) }];
  }
  if (!Array.isArray(errors)) errors = Object.values(errors).flat();
  if (errors.length) failed += 1;
  console.log(JSON.stringify({ file: path.relative(process.cwd(), file), valid: errors.length === 0,
    errors: errors.map((e) => ({ path: e.instancePath || e.dataPath || e.path, message: e.message, params: e.params })) }));
}
process.exit(failed ? 1 : 0);
