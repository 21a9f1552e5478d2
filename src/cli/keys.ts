// Key management for operators: `npm run keys:rotate` (or, in the container image,
// `node dist/src/cli/keys.js rotate`). Talks to the database the environment names.
import 'reflect-metadata';
import { parseArgs } from 'node:util';
import { AUTH_DEFAULTS } from '../auth';
import { revokeSigningKey, rotateSigningKey, SigningKeyRepository } from '../auth/keys';
import { loadConfiguration } from '../config/configuration';
import { ConfigurationError } from '../config/env.validation';
import { openDatabase } from '../database/data-source';

const USAGE = `usage: keys rotate [--activate-in SECONDS] [--service-stopped]
       keys revoke KID [--service-stopped]
       keys list [--service-stopped]

rotate   adds a new signing key. It is published in the JWKS at once and starts signing after
         --activate-in seconds (default 30), so every instance knows it before its first token.
         The previous key keeps verifying until the tokens it signed have expired.
revoke   retires a key at once (it leaked): it leaves the JWKS and every instance refuses its
         tokens within a second. If it was signing, a new key signs from now on; sessions
         survive, their next refresh gets a token from the new key.
list     shows the keys that are not retired.

With the embedded database (no DATABASE_URL) only one process may open it: stop the service
first and pass --service-stopped.`;

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      'activate-in': { type: 'string', default: '30' },
      'service-stopped': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  const command = positionals[0];
  if (values.help || !['rotate', 'revoke', 'list'].includes(command ?? '')) {
    console.log(USAGE);
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const activateInSeconds = Number(values['activate-in']);
  if (!Number.isInteger(activateInSeconds) || activateInSeconds < 0) {
    throw new ConfigurationError('--activate-in takes a whole number of seconds.');
  }

  const config = loadConfiguration();
  const alg = config.auth.algorithm ?? AUTH_DEFAULTS.algorithm;
  if (alg === 'HS256' || config.auth.privateKey) {
    throw new ConfigurationError(
      'Keys are stored in the database only for ES256/RS256 without AUTH_JWT_PRIVATE_KEY; ' +
        'rotate an HS256 secret or a configured PEM by changing the variable and restarting.',
    );
  }
  if (!config.database.url && !values['service-stopped']) {
    throw new ConfigurationError(
      'The embedded database is open in the running service; stop it and pass --service-stopped.',
    );
  }

  const dataSource = await openDatabase(config.database);
  try {
    const repository = new SigningKeyRepository(dataSource);
    if (command === 'revoke') {
      const kid = positionals[1];
      if (!kid) throw new ConfigurationError('keys revoke takes the kid of the key to retire.');
      const result = await revokeSigningKey(repository, alg, kid);
      if (result.replacedBy) console.log(`new key ${result.replacedBy} (${alg}) signs from now on`);
      console.log(`revoked ${kid}`);
      return;
    }
    if (command === 'list') {
      for (const key of await repository.findUsable(alg)) {
        console.log(`${key.kid}  ${key.alg}  activates ${key.activatesAt.toISOString()}`);
      }
      return;
    }
    const accessTtl = config.auth.accessTokenTtl ?? AUTH_DEFAULTS.accessTokenTtl;
    const tolerance = config.auth.clockTolerance ?? AUTH_DEFAULTS.clockTolerance;
    const result = await rotateSigningKey(repository, alg, {
      activateInSeconds,
      tokenLifetimeMs: (accessTtl + tolerance) * 1000,
    });
    console.log(`new key ${result.kid} (${alg}) signs from ${result.activatesAt.toISOString()}`);
    for (const kid of result.retired) console.log(`retired ${kid}`);
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigurationError ? error.message : error);
  process.exitCode = 1;
});
