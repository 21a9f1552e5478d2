import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { ADMIN_ROLE } from '../auth.constants';
import type { ResolvedAuthOptions } from '../interfaces/auth-module-options.interface';
import { PasswordHasher } from '../passwords/password-hasher.service';
import { AuthUserStore } from './auth-user-store';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';

/** Makes sure the configured admin user exists. Safe when several instances start at once. */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  private readonly logger = new Logger(AdminBootstrap.name);

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly users: AuthUserStore,
    private readonly passwords: PasswordHasher,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const admin = this.options.bootstrapAdmin;
    if (!admin) return;
    const email = admin.email.trim().toLowerCase();
    const existing = await this.users.findByEmail(email);
    if (existing) {
      // An existing account is never promoted: someone may have registered the address first.
      if (!existing.roles.includes(ADMIN_ROLE)) {
        this.logger.warn(`configured admin ${email} exists without the admin role; left as it is`);
      }
      return;
    }
    const passwordHash = await this.passwords.hash(admin.password);
    const created = await this.users.create({ email, passwordHash, roles: [ADMIN_ROLE] });
    // null: another instance created it at the same moment.
    if (created) this.logger.log(`created admin user ${email}`);
  }
}
