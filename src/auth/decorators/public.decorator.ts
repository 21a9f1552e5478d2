import { SetMetadata } from '@nestjs/common';
import { IS_PUBLIC_KEY } from '../auth.constants';

/** Marks a route or controller as reachable without a bearer token. */
export const Public = () => SetMetadata(IS_PUBLIC_KEY, true);
