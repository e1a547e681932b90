/** Who is calling: the sender of a message, the member who joins or leaves. */
export interface Identity {
  user_id: number;
  user_type: number;
  user_name: string;
}
