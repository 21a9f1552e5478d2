import { IsOptional, IsString, MaxLength } from 'class-validator';
import { IsDeviceId } from './device-id';

/** Body of `/auth/logout`; with the cookie transport the token is the cookie. */
export class RefreshTokenDto {
  @IsOptional()
  @IsString()
  @MaxLength(512)
  refresh_token?: string;
}

/** Body of `/auth/refresh`: the token (or the cookie) and the device the session is bound to. */
export class RefreshDto extends RefreshTokenDto {
  @IsDeviceId()
  device_id?: string;
}
