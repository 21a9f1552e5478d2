import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsOptional,
  Matches,
} from 'class-validator';

export class UpdateUserDto {
  /** Disabling ends every session of the user. */
  @IsOptional()
  @IsBoolean()
  disabled?: boolean;

  /** Replaces the user's roles; access tokens carry them from the next login or refresh. */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(20)
  @ArrayUnique()
  @Matches(/^[A-Za-z][A-Za-z0-9_:.-]{0,49}$/, {
    each: true,
    message: 'each role must be 1 to 50 letters, digits or _:.- starting with a letter',
  })
  roles?: string[];
}
