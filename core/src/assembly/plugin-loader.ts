import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from './config-error.js';
import type { PluginChoice } from './config-schema.js';
import type { CairnPlugin, PortName } from '../ports/plugin.js';
import { validateAgainst } from './schema-validator.js';

/** Plugins that ship inside the core, by the names a config may use. */
export type BuiltinPlugins = ReadonlyMap<string, CairnPlugin>;

function looksLikePath(use: string): boolean {
  return use.startsWith('.') || isAbsolute(use);
}

function isPlugin(value: unknown): value is CairnPlugin {
  if (value === null || typeof value !== 'object') return false;
  const p = value as Partial<CairnPlugin>;
  return (
    typeof p.createModule === 'function' &&
    typeof p.manifest === 'object' &&
    p.manifest !== null &&
    typeof p.manifest.name === 'string' &&
    Array.isArray(p.manifest.provides) &&
    typeof p.manifest.optionsSchema === 'object'
  );
}

/** Find the module file for a package name, from the config's directory, the working directory, then the core itself. */
function resolvePackage(name: string, baseDir: string): string | undefined {
  const bases = [join(baseDir, 'package.json'), join(process.cwd(), 'package.json'), import.meta.url];
  for (const base of bases) {
    try {
      return createRequire(base).resolve(name);
    } catch {
      // Try the next base.
    }
  }
  return undefined;
}

/** A file as is; a package directory through its package.json (its `main`, else index.js). */
function resolvePath(path: string): string {
  try {
    if (!statSync(path).isDirectory()) return path;
    return createRequire(join(path, 'package.json')).resolve(path);
  } catch {
    return path; // the import below reports what is missing
  }
}

/**
 * Load the plugin a config entry names (a package name, a path relative to the config file, or
 * a builtin), check it is a Cairn plugin providing `port`, and validate its options (defaults
 * filled in). Every failure is a ConfigError naming the config key.
 */
export async function loadPlugin(
  key: string,
  choice: PluginChoice,
  ports: readonly PortName[],
  baseDir: string,
  builtins: BuiltinPlugins,
): Promise<{ plugin: CairnPlugin; options: Record<string, unknown> }> {
  const builtin = builtins.get(choice.use);
  let plugin: CairnPlugin;
  if (builtin !== undefined) {
    plugin = builtin;
  } else {
    const file = looksLikePath(choice.use) ? resolvePath(resolve(baseDir, choice.use)) : resolvePackage(choice.use, baseDir);
    if (file === undefined) throw new ConfigError(`config: ${key}.use: unknown plugin "${choice.use}" (no such package is installed)`);
    let loaded: Record<string, unknown>;
    try {
      loaded = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ERR_MODULE_NOT_FOUND' ? `cannot find ${file}` : (err as Error).message.split('\n')[0];
      throw new ConfigError(`config: ${key}.use: cannot load plugin "${choice.use}": ${why}`);
    }
    const candidate = loaded['default'] ?? loaded['plugin'];
    if (!isPlugin(candidate)) {
      throw new ConfigError(`config: ${key}.use: "${choice.use}" is not a Cairn plugin (its default export needs a manifest and createModule)`);
    }
    plugin = candidate;
  }
  for (const port of ports) {
    if (!plugin.manifest.provides.includes(port)) {
      throw new ConfigError(
        `config: ${key}.use: plugin "${plugin.manifest.name}" does not provide the ${port} port (it provides: ${plugin.manifest.provides.join(', ') || 'nothing'})`,
      );
    }
  }
  const { use: _use, ...options } = choice;
  validateAgainst(plugin.manifest.optionsSchema, options, key);
  return { plugin, options };
}
