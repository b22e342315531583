#!/usr/bin/env node
// The Cairn server; `npm install` at the repository root builds what this imports.
import '../dist/src/assembly/main.js';
