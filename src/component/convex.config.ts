import { defineComponent } from "convex/server";

const component = defineComponent("guard");

export default component;
