import { Type } from 'class-transformer';
import { IsInt, IsString, Length, Max, Min } from 'class-validator';

/** Validated by the host's own global ValidationPipe (app.module.ts), not by the auth module. */
export class CreateOrderDto {
  @IsString()
  @Length(1, 40)
  item!: string;

  /** Accepts `"3"` as well as `3`: the host's pipe transforms. */
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  quantity!: number;
}
