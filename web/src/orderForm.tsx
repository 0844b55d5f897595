// Place an order for a paper or testnet bot by hand (`POST .../bots/{id}/orders`,
// `trading:paper`; the bot page offers no form for a live bot): side, type, quantity and, for a
// limit order, a price; each problem the API finds beside its field. The order and its fills
// appear in the bot page's tables from the exchange's events.
import { type FormEvent, useState } from "react";
import { api, call, idempotency, type Schemas } from "./api/client";
import { useAction } from "./data";
import { Field, FormError, Select } from "./ui";
import { fieldErrors } from "./words";

type Order = Schemas["PlaceOrderIn"];
const FIELDS = ["side", "type", "quantity", "price"];

export function OrderForm(props: {
  workspaceId: string;
  botId: string;
  mode: Schemas["BotOut"]["mode"];
}) {
  const [side, setSide] = useState<Order["side"]>("buy");
  const [type, setType] = useState<Order["type"]>("market");
  const [quantity, setQuantity] = useState("");
  const [price, setPrice] = useState("");
  const [placed, setPlaced] = useState<Schemas["OrderDetailOut"] | null>(null);
  const action = useAction(async () => {
    setPlaced(null);
    const order = await call(
      api.POST("/v1/workspaces/{workspace_id}/bots/{bot_id}/orders", {
        params: {
          path: { workspace_id: props.workspaceId, bot_id: props.botId },
          header: idempotency(),
        },
        body: { side, type, quantity, ...(type === "limit" ? { price } : {}) },
      }),
    );
    setPlaced(order);
  });
  const errors = fieldErrors(action.problem);
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    void action.run();
  };
  return (
    <section aria-labelledby="order-title">
      <h2 id="order-title">Place an order</h2>
      <form onSubmit={submit} noValidate className="order-form">
        <p className="hint">
          A {props.mode} order on the bot's market, through the same route as the bot's own.
        </p>
        <Select
          label="Side"
          value={side}
          error={errors.side}
          onChange={(e) => setSide(e.target.value as Order["side"])}
        >
          <option value="buy">buy</option>
          <option value="sell">sell</option>
        </Select>
        <Select
          label="Type"
          value={type}
          error={errors.type}
          onChange={(e) => setType(e.target.value as Order["type"])}
        >
          <option value="market">market</option>
          <option value="limit">limit</option>
        </Select>
        <Field
          label="Quantity"
          hint="In the market's base currency, e.g. 0.5"
          inputMode="decimal"
          autoComplete="off"
          value={quantity}
          error={errors.quantity}
          onChange={(e) => setQuantity(e.target.value)}
        />
        {type === "limit" && (
          <Field
            label="Price"
            inputMode="decimal"
            autoComplete="off"
            value={price}
            error={errors.price}
            onChange={(e) => setPrice(e.target.value)}
          />
        )}
        <FormError problem={action.problem} fields={FIELDS} />
        <div className="actions">
          <button type="submit" disabled={action.busy}>
            {action.busy ? "Placing…" : "Place order"}
          </button>
        </div>
        {placed && (
          <p role="status" className={placed.status === "rejected" ? "form-error" : "hint"}>
            {placed.status === "rejected"
              ? `Refused: ${placed.reason ?? placed.code ?? "no reason given"}.`
              : `Order ${placed.status.replace("_", " ")}: ${placed.side} ${placed.quantity}.`}
          </p>
        )}
      </form>
    </section>
  );
}
