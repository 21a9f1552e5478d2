import { applyDecorators } from '@nestjs/common';
import { IsOptional, IsString, Length, Matches, validateSync } from 'class-validator';
import { NO_NUL, NO_NUL_MESSAGE } from './no-nul';

export const DEVICE_ID_MIN_LENGTH = 8;
export const DEVICE_ID_MAX_LENGTH = 200;

/**
 * The rules of an optional `device_id`: a string of 8 to 200 characters without NUL. It is a
 * stable id the client keeps in secure storage (a random UUID made at install is ideal).
 */
export const IsDeviceId = () =>
  applyDecorators(
    IsOptional(),
    IsString(),
    Length(DEVICE_ID_MIN_LENGTH, DEVICE_ID_MAX_LENGTH),
    Matches(NO_NUL, NO_NUL_MESSAGE),
  );

class DeviceIdParameter {
  @IsDeviceId()
  device_id?: unknown;
}

/** What is wrong with a `device_id` outside a DTO (the OAuth parameters), or undefined. */
export function deviceIdProblem(value: unknown): string | undefined {
  const [error] = validateSync(Object.assign(new DeviceIdParameter(), { device_id: value }));
  return error ? Object.values(error.constraints ?? {})[0] : undefined;
}
