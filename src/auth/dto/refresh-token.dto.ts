import { IsOptional, IsString, MaxLength } from 'class-validator';

/** Body of `/auth/refresh` and `/auth/logout`; with the cookie transport the token is the cookie. */
export class RefreshTokenDto {
  @IsOptional()
  @IsString()
  @MaxLength(512)
  refresh_token?: string;
}
