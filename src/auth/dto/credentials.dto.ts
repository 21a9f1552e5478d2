import { Transform } from 'class-transformer';
import { IsEmail, IsOptional, IsString, Length, Matches, MaxLength } from 'class-validator';
import { IsDeviceId } from './device-id';
import { NO_NUL, NO_NUL_MESSAGE } from './no-nul';

// Lone surrogates become U+FFFD (then fail @IsEmail): validator.js's encodeURI would throw on them.
const normalizeEmail = ({ value }: { value: unknown }) =>
  typeof value === 'string'
    ? value
        .replace(/[\ud800-\udfff]/gu, '\ufffd')
        .trim()
        .toLowerCase()
    : value;

export class LoginDto {
  @Transform(normalizeEmail)
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @IsString()
  @Length(8, 128)
  password!: string;

  /** A name the user gives this device, shown in the session list. */
  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(NO_NUL, NO_NUL_MESSAGE)
  device?: string;

  /** A stable id of this client install; the session is bound to it (option `refreshBinding`). */
  @IsDeviceId()
  device_id?: string;
}

export class RegisterDto {
  @Transform(normalizeEmail)
  @IsEmail()
  @MaxLength(254)
  email!: string;

  @IsString()
  @Length(8, 128)
  password!: string;

  @IsOptional()
  @IsString()
  @MaxLength(100)
  @Matches(NO_NUL, NO_NUL_MESSAGE)
  name?: string;
}

export class ChangePasswordDto {
  @IsString()
  @MaxLength(128)
  currentPassword!: string;

  @IsString()
  @Length(8, 128)
  newPassword!: string;
}
