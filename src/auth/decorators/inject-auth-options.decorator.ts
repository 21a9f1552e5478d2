import { Inject } from '@nestjs/common';
import { AUTH_OPTIONS } from '../auth.constants';

/**
 * Injects the module's options with every default applied (`ResolvedAuthOptions`), e.g. in a
 * host service that needs the issuer or the access-token lifetime.
 *
 * @example
 * constructor(@InjectAuthOptions() private readonly options: ResolvedAuthOptions) {}
 * @publicApi
 */
export const InjectAuthOptions = (): ParameterDecorator & PropertyDecorator => Inject(AUTH_OPTIONS);
