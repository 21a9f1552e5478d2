import { Body, Controller, Get, Post } from '@nestjs/common';
import { type AuthPrincipal, CurrentUser, Public, Roles } from 'nest-token-auth';
import { CreateOrderDto } from './create-order.dto.js';

export interface Order {
  item: string;
  quantity: number;
  orderedBy: string;
}

/** The host's own routes, behind the auth module's global guard unless `@Public()`. */
@Controller()
export class OrdersController {
  @Public()
  @Get('status')
  status(@CurrentUser('id') userId: string | undefined): { status: 'up'; userId: string | null } {
    return { status: 'up', userId: userId ?? null };
  }

  @Get('orders/mine')
  mine(@CurrentUser() user: AuthPrincipal): { userId: string; roles: string[] } {
    return { userId: user.id, roles: user.roles };
  }

  @Roles(['manager'])
  @Get('orders/report')
  report(@CurrentUser('id') userId: string): { report: string; managerId: string } {
    return { report: 'all orders', managerId: userId };
  }

  /** A host-only route whose body only the host's pipe validates. */
  @Post('orders')
  create(@Body() order: CreateOrderDto, @CurrentUser('id') userId: string): Order {
    return { item: order.item, quantity: order.quantity, orderedBy: userId };
  }
}
