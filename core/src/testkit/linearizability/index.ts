export * from './register-model.js';
export * from './checker.js';
