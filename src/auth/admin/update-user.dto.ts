import {
  ArrayMaxSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  Matches,
  ValidateIf,
} from 'class-validator';

// Absent is fine; null is not (IsOptional would let null through to NOT NULL columns).
const unlessAbsent = ValidateIf((_object: object, value: unknown) => value !== undefined);

export class UpdateUserDto {
  /** Disabling ends every session of the user. */
  @unlessAbsent
  @IsBoolean()
  disabled?: boolean;

  /** Replaces the user's roles; access tokens carry them from the next login or refresh. */
  @unlessAbsent
  @IsArray()
  @ArrayMaxSize(20)
  @ArrayUnique()
  @Matches(/^[A-Za-z][A-Za-z0-9_:.-]{0,49}$/, {
    each: true,
    message: 'each role must be 1 to 50 letters, digits or _:.- starting with a letter',
  })
  roles?: string[];
}
